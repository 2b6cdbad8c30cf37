from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from ragmesh_kit.domain import (
    DocumentCommand,
    DocumentStatus,
    GeneratedAnswer,
    GeneratedPiece,
    MetadataFilter,
    RetrievalMode,
    ScoredChunk,
)


class Embedder(Protocol):
    async def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


class Retriever(Protocol):
    async def search(
        self,
        tenant_id: str,
        vector: Sequence[float],
        top_k: int,
        filters: Sequence[MetadataFilter],
        score_threshold: float = 0.0,
        max_chunks_per_document: int = 0,
        query_text: str = "",
        mode: RetrievalMode | None = None,
    ) -> list[ScoredChunk]:
        """With ``query_text`` (what ``vector`` embeds) the retriever may fuse BM25 term matching
        into the ranking (hybrid); ``mode`` None means the retriever's default."""
        ...


class DocumentStates(Protocol):
    async def get_document_state(self, tenant_id: str, document_id: str) -> DocumentStatus | None: ...


class DocumentStateRecorder(DocumentStates, Protocol):
    async def record_document_state(self, tenant_id: str, status: DocumentStatus) -> DocumentStatus: ...


class Generator(Protocol):
    def generate(
        self, question: str, context: Sequence[ScoredChunk], max_context_tokens: int
    ) -> AsyncIterator[GeneratedPiece | GeneratedAnswer]: ...


class DocumentPublisher(Protocol):
    async def publish(self, command: DocumentCommand) -> None: ...


class AskObserver(Protocol):
    """Where the ask use case reports what happened (Prometheus and the span in production)."""

    def first_piece(self, seconds: float, cache: str) -> None: ...

    def answered(self, seconds: float, cache: str) -> None: ...

    def refused(self, reason: str) -> None: ...


class Reranker(Protocol):
    async def rerank(self, question: str, candidates: Sequence[ScoredChunk]) -> list[float]:
        """One score per candidate (candidates best first; higher is better)."""
        ...
