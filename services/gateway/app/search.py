"""Use case: a tenant's best chunks for a query, without generation, for services that write the
answer with their own model. Admitted like Ask (same validation, rate limit and token-quota check),
charged no tokens (nothing is generated), and never cached: the chunks are the product, and they
change as documents are indexed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ragmesh_kit.domain import MetadataFilter, RetrievalMode, ScoredChunk
from ragmesh_kit.errors import InvalidArgument
from services.gateway.app.ask import AskLimits, checked_query
from services.gateway.app.ports import AskObserver, Embedder, Retriever
from services.gateway.app.quotas import QuotaLeft, RetryLater
from services.gateway.app.shared_state import TenantQuotas


@dataclass(frozen=True)
class SearchQuery:
    tenant_id: str
    text: str
    top_k: int = 0
    filters: Sequence[MetadataFilter] = ()
    min_score: float = 0.0
    mode: RetrievalMode | None = None  # None: the retriever's default (hybrid)
    max_chunks_per_document: int = 0  # 0: the gateway's default


@dataclass(frozen=True)
class SearchResult:
    chunks: list[ScoredChunk]
    quota: QuotaLeft


class SearchChunks:
    def __init__(
        self, embedder: Embedder, retriever: Retriever, limits: AskLimits, quotas: TenantQuotas, observer: AskObserver
    ) -> None:
        self._embedder = embedder
        self._retriever = retriever
        self._limits = limits
        self._quotas = quotas
        self._observer = observer

    async def search(self, query: SearchQuery) -> SearchResult:
        top_k, min_score = checked_query(self._limits, "query", query.text, query.top_k, query.min_score)
        if query.max_chunks_per_document < 0:
            raise InvalidArgument("max_chunks_per_document is negative")
        per_document = query.max_chunks_per_document or self._limits.max_chunks_per_document
        try:
            await self._quotas.admit(query.tenant_id)
        except RetryLater as refused:
            self._observer.refused(refused.kind)
            raise
        [vector] = await self._embedder.embed([query.text])
        chunks = await self._retriever.search(
            query.tenant_id, vector, top_k, query.filters, min_score, per_document, query.text, query.mode
        )
        return SearchResult(chunks, await self._quotas.remaining(query.tenant_id))
