"""The embedding model served by Triton (model ``minilm``: TEXT bytes in, EMBEDDING fp32 out).
Triton's dynamic batcher merges concurrent requests; a request larger than the model's
max_batch_size is split here and the parts run concurrently."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np

from ragmesh_kit.errors import DependencyFailed
from ragmesh_kit.triton import BytesTensor, TritonClient


class TritonEmbeddingModel:
    def __init__(self, client: TritonClient, model: str, dimension: int, max_batch: int) -> None:
        self._client = client
        self.name = model
        self.dimension = dimension
        self._max_batch = max_batch

    async def _embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        outputs = await self._client.infer(
            self.name,
            {"TEXT": BytesTensor([text.encode() for text in texts], shape=[len(texts), 1])},
            ["EMBEDDING"],
        )
        vectors = outputs.get("EMBEDDING")
        if not isinstance(vectors, np.ndarray) or vectors.shape != (len(texts), self.dimension):
            shape = getattr(vectors, "shape", None)
            raise DependencyFailed(
                f"triton model {self.name} returned shape {shape}, expected ({len(texts)}, {self.dimension})"
            )
        return vectors

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        parts = [texts[start : start + self._max_batch] for start in range(0, len(texts), self._max_batch)]
        results = await asyncio.gather(*(self._embed_batch(part) for part in parts))
        return np.concatenate(results, axis=0)

    async def ready(self) -> bool:
        return await self._client.model_ready(self.name)
