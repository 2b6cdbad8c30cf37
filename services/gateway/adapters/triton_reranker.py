"""The reranking model served by Triton (model ``rerank``: QUERY, TEXTS, TITLES bytes in, SCORES fp32
out, one score per candidate chunk)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ragmesh_kit.domain import ScoredChunk
from ragmesh_kit.errors import DependencyFailed
from ragmesh_kit.triton import BytesTensor, TritonClient

OUTPUT = "SCORES"


class TritonReranker:
    def __init__(self, client: TritonClient, model: str) -> None:
        self._client = client
        self.name = model

    async def rerank(self, question: str, candidates: Sequence[ScoredChunk]) -> list[float]:
        if not candidates:
            return []
        texts = [item.chunk.text.encode() for item in candidates]
        titles = [item.chunk.title.encode() for item in candidates]
        outputs = await self._client.infer(
            self.name,
            {
                "QUERY": BytesTensor([question.encode()], shape=[1]),
                "TEXTS": BytesTensor(texts, shape=[len(texts)]),
                "TITLES": BytesTensor(titles, shape=[len(titles)]),
            },
            [OUTPUT],
        )
        scores = outputs.get(OUTPUT)
        if not isinstance(scores, np.ndarray) or scores.shape != (len(candidates),):
            shape = getattr(scores, "shape", None)
            raise DependencyFailed(f"triton model {self.name} returned shape {shape}, expected ({len(candidates)},)")
        return [float(score) for score in scores]

    async def ready(self) -> bool:
        return await self._client.model_ready(self.name)
