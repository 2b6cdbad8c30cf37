from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
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
from services.gateway.app.answer_cache import CacheKey
from services.gateway.app.quotas import QuotaLeft, TenantLimits


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


class SharedStateUnavailable(Exception):
    """The shared tenant store (Valkey) did not answer, or not in time."""


@dataclass(frozen=True)
class QuotaVerdict:
    refused: str  # "" when admitted, else the limit hit (requests, tokens_per_minute, tokens_per_day)
    retry_after_seconds: float
    left: QuotaLeft


class SharedQuotas(Protocol):
    """The rules of ``quotas.QuotaBook``, applied atomically for every replica at once."""

    async def admit(self, tenant: str, limits: TenantLimits) -> QuotaVerdict: ...

    async def charge(self, tenant: str, limits: TenantLimits, tokens: int) -> QuotaLeft: ...

    async def remaining(self, tenant: str, limits: TenantLimits) -> QuotaLeft: ...


class SharedAnswers(Protocol):
    """Exact-question answers every replica can serve."""

    async def get(self, key: CacheKey) -> GeneratedAnswer | None: ...

    async def put(self, key: CacheKey, answer: GeneratedAnswer, ttl_seconds: float) -> None: ...


class GenerationStore(Protocol):
    """Each tenant's index generation and its published-but-not-yet-indexed changes
    (document -> (version, published at, epoch seconds)). None: not known right now."""

    async def bump(self, tenant: str, document: str, version: int, now: float) -> int | None: ...

    async def read(self, tenant: str) -> tuple[int, dict[str, tuple[int, float]]] | None: ...

    async def settle(self, tenant: str, document: str, version: int) -> None: ...


class SharedStateObserver(Protocol):
    def fallback(self, operation: str) -> None: ...

    def availability(self, up: bool) -> None: ...


class Reranker(Protocol):
    async def rerank(self, question: str, candidates: Sequence[ScoredChunk]) -> list[float]:
        """One score per candidate (candidates best first; higher is better)."""
        ...
