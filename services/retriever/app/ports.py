"""What the retriever's use cases need from a chunk store."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from ragmesh_kit.domain import ChunkWithVector, DocumentStatus, MetadataFilter, ScoredChunk

# Given the recorded state (None: nothing yet) and the incoming one, returns the state to keep.
StateChooser = Callable[[DocumentStatus | None, DocumentStatus], DocumentStatus]


class DocumentStateStore(Protocol):
    async def get_document_state(self, tenant_id: str, document_id: str) -> DocumentStatus | None: ...

    async def record_document_state(
        self, tenant_id: str, status: DocumentStatus, choose: StateChooser
    ) -> DocumentStatus:
        """Reads the recorded state, writes ``choose(recorded, status)`` with no other write of the
        same document in between, and returns what it kept."""
        ...


class ChunkStore(DocumentStateStore, Protocol):
    """A vector store of chunks, partitioned by tenant (every call names one)."""

    async def search(
        self,
        tenant_id: str,
        vector: Sequence[float],
        top_k: int,
        filters: Sequence[MetadataFilter],
        score_threshold: float,
        query_text: str = "",
    ) -> list[ScoredChunk]:
        """The tenant's best chunks for ``vector``. With ``query_text`` the search is hybrid: the
        dense ranking fused (reciprocal rank) with a BM25 ranking of the text's terms; the order is
        the fused one, each score stays the chunk's cosine to ``vector``, and ``score_threshold``
        applies to that cosine."""
        ...

    async def upsert(self, tenant_id: str, records: Sequence[ChunkWithVector]) -> int:
        """Writes the chunks (same chunk id -> same point, so a retry overwrites); returns the count."""
        ...

    async def delete_document(self, tenant_id: str, document_id: str, below_version: int) -> None:
        """Removes the document's chunks whose version is below ``below_version`` (0: all)."""
        ...

    async def count(self, tenant_id: str, document_id: str | None = None) -> int: ...

    async def ready(self) -> bool: ...

    async def close(self) -> None: ...
