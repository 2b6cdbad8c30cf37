"""What the retriever's use cases need from a chunk store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ragmesh_kit.domain import ChunkWithVector, MetadataFilter, ScoredChunk


class ChunkStore(Protocol):
    """A vector store of chunks, partitioned by tenant (every call names one)."""

    async def search(
        self,
        tenant_id: str,
        vector: Sequence[float],
        top_k: int,
        filters: Sequence[MetadataFilter],
        score_threshold: float,
    ) -> list[ScoredChunk]: ...

    async def upsert(self, tenant_id: str, records: Sequence[ChunkWithVector]) -> int:
        """Writes the chunks (same chunk id -> same point, so a retry overwrites); returns the count."""
        ...

    async def delete_document(self, tenant_id: str, document_id: str, below_version: int) -> None:
        """Removes the document's chunks whose version is below ``below_version`` (0: all)."""
        ...

    async def ready(self) -> bool: ...

    async def close(self) -> None: ...
