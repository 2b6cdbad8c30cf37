"""Use case: answer a tenant's question — admit it (rate limit, token quotas), serve it from the
answer caches when possible, else embed it, search the tenant's chunks and generate."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ragmesh_kit.domain import DENSE, GeneratedAnswer, GeneratedPiece, MetadataFilter, RetrievalMode, TokenUsage
from ragmesh_kit.errors import DependencyFailed, InvalidArgument
from services.gateway.app.answer_cache import CacheKey, normalise_question
from services.gateway.app.generations import IndexGenerations
from services.gateway.app.ports import AskObserver, Embedder, Generator, Reranker, Retriever
from services.gateway.app.quotas import QuotaLeft, RetryLater
from services.gateway.app.rerank import candidate_count, reranked
from services.gateway.app.shared_state import Answers, TenantQuotas


class CacheStatus(StrEnum):
    """How an answer was served (CacheStatus in the protos)."""

    MISS = "miss"
    EXACT_HIT = "exact_hit"
    SEMANTIC_HIT = "semantic_hit"
    BYPASSED = "bypassed"


MISS, EXACT_HIT, SEMANTIC_HIT, BYPASSED = (
    CacheStatus.MISS,
    CacheStatus.EXACT_HIT,
    CacheStatus.SEMANTIC_HIT,
    CacheStatus.BYPASSED,
)


@dataclass(frozen=True)
class AskLimits:
    default_top_k: int
    max_top_k: int
    max_question_chars: int
    default_min_score: float = 0.0
    max_chunks_per_document: int = 0
    # How Ask retrieves the chunks it answers from (Search takes the mode per request).
    retrieval_mode: RetrievalMode = DENSE
    # With a reranker: how many chunks retrieval fetches for it to choose top_k from.
    rerank_candidates: int = 10


@dataclass(frozen=True)
class Question:
    tenant_id: str
    text: str
    top_k: int = 0
    filters: Sequence[MetadataFilter] = ()
    max_context_tokens: int = 0
    min_score: float = 0.0
    bypass_cache: bool = False


@dataclass(frozen=True)
class AskResult:
    """The end of an answer. ``answer.usage`` is what this request consumed: zero on a cache hit."""

    answer: GeneratedAnswer
    cache: CacheStatus
    quota: QuotaLeft


@dataclass(frozen=True)
class _Plan:
    top_k: int
    min_score: float
    options: str


def checked_query(limits: AskLimits, what: str, text: str, top_k: int, min_score: float) -> tuple[int, float]:
    """The rules Ask and Search share: the text's presence and length, top_k within the limit
    (0: the default) and min_score a cosine (0: the default). Returns (top_k, min_score)."""
    if not text.strip():
        raise InvalidArgument(f"{what} is empty; send the {what} text")
    if len(text) > limits.max_question_chars:
        raise InvalidArgument(f"{what} has {len(text)} characters; the limit is {limits.max_question_chars}")
    top_k = top_k or limits.default_top_k
    if top_k > limits.max_top_k:
        raise InvalidArgument(f"top_k is {top_k}; the limit is {limits.max_top_k}")
    min_score = min_score or limits.default_min_score
    if not -1.0 <= min_score <= 1.0:
        raise InvalidArgument(f"min_score is {min_score}; a cosine score is between -1 and 1")
    return top_k, min_score


class AskQuestion:
    def __init__(
        self,
        embedder: Embedder,
        retriever: Retriever,
        generator: Generator,
        limits: AskLimits,
        quotas: TenantQuotas,
        cache: Answers,
        generations: IndexGenerations,
        observer: AskObserver,
        clock: Callable[[], float] = time.perf_counter,
        reranker: Reranker | None = None,
    ) -> None:
        self._embedder = embedder
        self._retriever = retriever
        self._generator = generator
        self._limits = limits
        self._quotas = quotas
        self._cache = cache
        self._generations = generations
        self._observer = observer
        self._clock = clock
        self._reranker = reranker

    def _plan(self, question: Question) -> _Plan:
        top_k, min_score = checked_query(self._limits, "question", question.text, question.top_k, question.min_score)
        # Everything besides the question that changes the answer is part of the cache key.
        options = repr((top_k, tuple(question.filters), question.max_context_tokens, round(min_score, 6)))
        return _Plan(top_k, min_score, options)

    async def stream(self, question: Question) -> AsyncIterator[GeneratedPiece | AskResult]:
        started = self._clock()
        plan = self._plan(question)
        tenant = question.tenant_id
        try:
            await self._quotas.admit(tenant)
        except RetryLater as refused:
            self._observer.refused(refused.kind)
            raise
        key: CacheKey | None = None
        settled = False
        generation = None if question.bypass_cache else await self._generations.current(tenant)
        # An unknown generation (shared store away) uses no cached answer: the answer is computed.
        if generation is not None and generation.known:
            settled = generation.settled
            key = CacheKey(tenant, normalise_question(question.text), generation.number, plan.options)
            cached = await self._cache.exact(key)
            if cached is not None:
                async for event in self._serve_cached(cached, EXACT_HIT, tenant, started):
                    yield event
                return
        [vector] = await self._embedder.embed([question.text])
        if key is not None:
            cached = self._cache.semantic(key, vector)
            if cached is not None:
                async for event in self._serve_cached(cached, SEMANTIC_HIT, tenant, started):
                    yield event
                return
        status = BYPASSED if question.bypass_cache else MISS
        # The question goes along so the retriever can match its terms when the mode is hybrid.
        fetch = plan.top_k if self._reranker is None else candidate_count(plan.top_k, self._limits.rerank_candidates)
        chunks = await self._retriever.search(
            tenant,
            vector,
            fetch,
            question.filters,
            plan.min_score,
            self._limits.max_chunks_per_document,
            question.text,
            self._limits.retrieval_mode,
        )
        if self._reranker is not None:
            chunks = await reranked(self._reranker, question.text, chunks, plan.top_k)
        final: GeneratedAnswer | None = None
        first_sent = False
        async for generated in self._generator.generate(question.text, chunks, question.max_context_tokens):
            if isinstance(generated, GeneratedAnswer):
                final = generated
                continue
            if not first_sent:
                self._observer.first_piece(self._clock() - started, status)
                first_sent = True
            yield generated
        if final is None:
            raise DependencyFailed("generator: the stream ended without a final answer")
        quota = await self._quotas.charge(tenant, final.usage.total_tokens)
        # Answers without sources are not kept: they are cheap and usually mean the documents
        # are not indexed yet.
        if key is not None and settled and final.citations:
            await self._cache.store(key, vector, final)
        self._observer.answered(self._clock() - started, status)
        yield AskResult(final, status, quota)

    async def _serve_cached(
        self, cached: GeneratedAnswer, status: CacheStatus, tenant: str, started: float
    ) -> AsyncIterator[GeneratedPiece | AskResult]:
        self._observer.first_piece(self._clock() - started, status)
        yield GeneratedPiece(cached.answer)
        self._observer.answered(self._clock() - started, status)
        free = GeneratedAnswer(answer=cached.answer, citations=cached.citations, usage=TokenUsage())
        yield AskResult(free, status, await self._quotas.remaining(tenant))

    async def answer(self, question: Question) -> AskResult:
        final: AskResult | None = None
        # Read the stream to its end (not just to the final message) so every span and call
        # downstream completes normally.
        async for event in self.stream(question):
            if isinstance(event, AskResult):
                final = event
        if final is None:
            raise DependencyFailed("generator: the stream ended without a final answer")
        return final
