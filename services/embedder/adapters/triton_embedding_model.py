"""The embedding model served by Triton (model ``minilm``: TEXT bytes in, EMBEDDING fp32 out).
Triton's dynamic batcher merges concurrent requests; a request larger than the model's
max_batch_size is split here and the parts run concurrently. The dimension and max_batch_size come
from the model's configuration in Triton, read once it is reachable, not from settings."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ragmesh_kit.errors import DependencyFailed
from ragmesh_kit.triton import BytesTensor, TritonClient

OUTPUT = "EMBEDDING"


class TritonEmbeddingModel:
    def __init__(self, client: TritonClient, model: str) -> None:
        self._client = client
        self.name = model
        self._shape: tuple[int, int] | None = None  # (max_batch_size, dimension)

    @property
    def dimension(self) -> int:
        return self._shape[1] if self._shape else 0

    async def _described(self) -> tuple[int, int]:
        if self._shape is None:
            max_batch, dimension = await self._client.output_shape(self.name, OUTPUT)
            self._shape = (max(max_batch, 1), dimension)
        return self._shape

    async def _embed_batch(self, texts: Sequence[str], dimension: int) -> NDArray[Any]:
        outputs = await self._client.infer(
            self.name,
            {"TEXT": BytesTensor([text.encode() for text in texts], shape=[len(texts), 1])},
            [OUTPUT],
        )
        vectors = outputs.get(OUTPUT)
        if not isinstance(vectors, np.ndarray) or vectors.shape != (len(texts), dimension):
            shape = getattr(vectors, "shape", None)
            raise DependencyFailed(
                f"triton model {self.name} returned shape {shape}, expected ({len(texts)}, {dimension})"
            )
        return vectors

    async def embed(self, texts: Sequence[str]) -> NDArray[Any]:
        max_batch, dimension = await self._described()
        parts = [texts[start : start + max_batch] for start in range(0, len(texts), max_batch)]
        results = await asyncio.gather(*(self._embed_batch(part, dimension) for part in parts))
        return np.concatenate(results, axis=0)

    async def ready(self) -> bool:
        if not await self._client.model_ready(self.name):
            return False
        await self._described()
        return True
