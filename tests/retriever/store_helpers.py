"""Test data helpers shared by the retriever tests and the kill-test child process."""

from __future__ import annotations

import math

from ragmesh_kit.domain import Chunk, ChunkWithVector, MetadataScalar

DIM = 8


def unit(*components: float) -> list[float]:
    """A DIM-d unit vector from its first components (the rest zero)."""
    v = list(components) + [0.0] * (DIM - len(components))
    norm = math.sqrt(sum(x * x for x in v))
    return [x / norm for x in v]


def record(
    chunk_id: str,
    vector: list[float],
    *,
    document_id: str = "doc-1",
    version: int = 1,
    index: int = 0,
    metadata: dict[str, MetadataScalar] | None = None,
) -> ChunkWithVector:
    chunk = Chunk(
        chunk_id=chunk_id,
        document_id=document_id,
        chunk_index=index,
        version=version,
        title=f"title {chunk_id}",
        text=f"text of {chunk_id}",
        metadata=metadata or {},
    )
    return ChunkWithVector(chunk=chunk, vector=vector)
