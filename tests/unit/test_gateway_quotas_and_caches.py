"""Rate limit, token quotas, answer caches and index generations of the gateway (pure logic; the
stack tests drive the same code through gRPC)."""

from __future__ import annotations

import asyncio

import pytest

from ragmesh_kit.domain import ACCEPTED, INDEXED, Citation, DocumentStatus, GeneratedAnswer, TokenUsage
from ragmesh_kit.errors import DependencyFailed
from services.gateway.app.answer_cache import AnswerCache, CacheKey, normalise_question
from services.gateway.app.generations import IndexGenerations
from services.gateway.app.quotas import QuotaBook, RetryLater, TenantLimits
from services.gateway.app.shared_state import MemoryGenerations


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


DEFAULTS = TenantLimits(rpm=600, tpm=100_000, tpd=1_000_000)


def test_request_rate_is_a_token_bucket_that_says_when_to_retry() -> None:
    clock = Clock()
    book = QuotaBook(DEFAULTS, {"t": TenantLimits(rpm=60, tpm=1000, tpd=10_000, burst=2)}, clock)
    book.admit("t")
    book.admit("t")
    with pytest.raises(RetryLater) as refused:
        book.admit("t")
    assert refused.value.retry_after_seconds == 1
    assert "retry after 1 seconds" in refused.value.message and "60 requests per minute" in refused.value.message
    book.admit("other")  # other tenants are not affected
    clock.now += 1.0
    book.admit("t")


def test_token_quota_per_minute_refills_by_the_deficit() -> None:
    clock = Clock()
    book = QuotaBook(DEFAULTS, {"t": TenantLimits(rpm=600, tpm=600, tpd=10_000)}, clock)
    book.admit("t")
    left = book.charge("t", 700)  # one request may overdraw; the next waits for the deficit
    assert left.tokens_this_minute == 0 and left.tokens_today == 9_300
    with pytest.raises(RetryLater) as refused:
        book.admit("t")
    assert refused.value.kind == "tokens_per_minute"
    assert refused.value.retry_after_seconds == 11  # 101 tokens at 10 per second
    clock.now += 11
    book.admit("t")
    assert book.remaining("t").tokens_this_minute == 10


def test_token_quota_per_day_waits_for_the_next_utc_day() -> None:
    clock = Clock(now=86_400 * 100 + 3_600)
    book = QuotaBook(DEFAULTS, {"t": TenantLimits(rpm=600, tpm=10_000, tpd=500)}, clock)
    book.admit("t")
    book.charge("t", 500)
    with pytest.raises(RetryLater) as refused:
        book.admit("t")
    assert refused.value.kind == "tokens_per_day"
    assert refused.value.retry_after_seconds == 86_400 - 3_600
    clock.now += 86_400 - 3_600
    book.admit("t")
    assert book.remaining("t").tokens_today == 500


def _answer(text: str) -> GeneratedAnswer:
    return GeneratedAnswer(text, [Citation("d", "d#0", 0.5, "T", text, 1)], TokenUsage(10, 5))


def test_exact_cache_matches_normalised_question_generation_and_options() -> None:
    clock = Clock()
    cache = AnswerCache(ttl_seconds=60, semantic_threshold=0.95, max_entries_per_tenant=2, clock=clock)
    key = CacheKey("a", normalise_question("What does  PASS do?"), 1, "opts")
    cache.store(key, [1.0, 0.0], _answer("x"))
    assert normalise_question("what does pass do") == key.question
    assert cache.exact(key) is not None
    assert cache.exact(CacheKey("b", key.question, 1, "opts")) is None  # other tenant
    assert cache.exact(CacheKey("a", key.question, 2, "opts")) is None  # index changed
    assert cache.exact(CacheKey("a", key.question, 1, "other")) is None  # other options
    clock.now += 61
    assert cache.exact(key) is None  # expired


def test_semantic_cache_needs_close_embeddings_of_the_same_tenant() -> None:
    cache = AnswerCache(ttl_seconds=60, semantic_threshold=0.95, max_entries_per_tenant=8)
    cache.store(CacheKey("a", "q1", 1, "o"), [1.0, 0.0, 0.0], _answer("x"))
    near, far = [0.99, 0.1, 0.0], [0.6, 0.8, 0.0]
    assert cache.semantic(CacheKey("a", "q2", 1, "o"), near) is not None
    assert cache.semantic(CacheKey("a", "q2", 1, "o"), far) is None
    assert cache.semantic(CacheKey("b", "q2", 1, "o"), near) is None
    assert cache.semantic(CacheKey("a", "q2", 2, "o"), near) is None


class States:
    def __init__(self) -> None:
        self.status: DocumentStatus | None = None
        self.fail = False

    async def get_document_state(self, tenant_id: str, document_id: str) -> DocumentStatus | None:
        if self.fail:
            raise DependencyFailed("retriever: UNIMPLEMENTED")
        return self.status


def test_a_published_change_bumps_the_generation_and_settles_when_indexed() -> None:
    clock, states = Clock(), States()
    generations = IndexGenerations(states, settle_seconds=30, store=MemoryGenerations(), clock=clock)

    async def scenario() -> None:
        assert (await generations.current("t")).number == 0
        await generations.changed("t", "doc", version=5)
        current = await generations.current("t")
        assert current.number == 1 and not current.settled
        states.status = DocumentStatus("doc", ACCEPTED, 5)
        assert not (await generations.current("t")).settled
        states.status = DocumentStatus("doc", INDEXED, 5, chunk_count=2)
        assert (await generations.current("t")).settled
        await generations.changed("t", "doc", version=6)
        states.fail = True  # state unknown: settles after settle_seconds
        assert not (await generations.current("t")).settled
        clock.now += 30
        current = await generations.current("t")
        assert current.settled and current.number == 2

    asyncio.run(scenario())


class SlowStates:
    """Indexed at every version; each answer takes a moment, so checks can overlap."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.most_in_flight = 0
        self.during_check: list[object] = []

    async def get_document_state(self, tenant_id: str, document_id: str) -> DocumentStatus | None:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(0.01)
        for action in self.during_check:
            await action()  # type: ignore[operator]
        self.during_check.clear()
        self.in_flight -= 1
        return DocumentStatus(document_id, INDEXED, 1, chunk_count=1)


def test_pending_documents_are_checked_concurrently_and_a_newer_change_stays_pending() -> None:
    states = SlowStates()
    generations = IndexGenerations(states, settle_seconds=30, store=MemoryGenerations(), clock=Clock())

    async def scenario() -> None:
        for number in range(4):
            await generations.changed("t", f"doc-{number}", version=1)
        # Version 2 of doc-0 is published while version 1's state is being read.
        states.during_check.append(lambda: generations.changed("t", "doc-0", version=2))
        current = await generations.current("t")
        assert states.most_in_flight == 4
        assert not current.settled  # doc-0 v2 is pending: its v1 being indexed says nothing of it
        states.during_check.clear()

    asyncio.run(scenario())
