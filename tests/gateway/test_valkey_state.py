"""The gateway's shared tenant state on a real valkey-server: two ValkeyState clients stand for two
gateway replicas. Then the fail-open policy with Valkey stopped, frozen and back."""

from __future__ import annotations

import asyncio
import logging

import pytest

from ragmesh_kit.domain import Citation, GeneratedAnswer, TokenUsage
from services.gateway.adapters.valkey_state import ValkeyState
from services.gateway.app.answer_cache import AnswerCache, CacheKey
from services.gateway.app.quotas import QuotaBook, RetryLater, TenantLimits
from services.gateway.app.shared_state import Answers, FailOpen, FailOpenGenerations, TenantQuotas
from tests.gateway.conftest import ValkeyProcess

LIMITS = TenantLimits(rpm=60, tpm=600, tpd=1000, burst=2)


class Observed:
    def __init__(self) -> None:
        self.fallbacks: list[str] = []
        self.up: list[bool] = []

    def fallback(self, operation: str) -> None:
        self.fallbacks.append(operation)

    def availability(self, up: bool) -> None:
        self.up.append(up)


def _answer(text: str) -> GeneratedAnswer:
    return GeneratedAnswer(text, [Citation("doc", "doc#0", 0.8, "Doc", "a quote", 1)], TokenUsage(12, 3))


async def test_two_replicas_share_one_token_bucket(valkey_server: ValkeyProcess) -> None:
    one, two = ValkeyState(valkey_server.url, 1.0), ValkeyState(valkey_server.url, 1.0)
    try:
        assert not (await one.admit("t", LIMITS)).refused
        assert not (await two.admit("t", LIMITS)).refused
        refused = await one.admit("t", LIMITS)  # the burst of 2 is spent, whichever replica spent it
        assert refused.refused == "requests"
        assert 0 < refused.retry_after_seconds <= 1.0  # 60 per minute: one more every second
        assert not (await two.admit("other", LIMITS)).refused  # other tenants are not affected
        # Tokens: one answer may overdraw; the next request (on the other replica) waits the deficit.
        left = await two.charge("t2", LIMITS, 700)
        assert left.tokens_this_minute == 0 and left.tokens_today == 300
        verdict = await one.admit("t2", LIMITS)
        assert verdict.refused == "tokens_per_minute"
        assert 9.9 < verdict.retry_after_seconds <= 10.1  # (100 over + 1) tokens at 10 per second
        await one.charge("t3", LIMITS, 1000)
        assert (await two.admit("t3", LIMITS)).refused == "tokens_per_day"
        assert (await two.remaining("t3", LIMITS)).tokens_today == 0
    finally:
        await one.close()
        await two.close()


async def test_an_answer_stored_by_one_replica_is_found_by_the_other(valkey_server: ValkeyProcess) -> None:
    one, two = ValkeyState(valkey_server.url, 1.0), ValkeyState(valkey_server.url, 1.0)
    key = CacheKey("t", "what does pass do", 3, "opts")
    try:
        await one.put(key, _answer("nothing"), ttl_seconds=60)
        assert await two.get(key) == _answer("nothing")
        assert await two.get(CacheKey("t", key.question, 4, "opts")) is None  # index changed since
        assert await two.get(CacheKey("u", key.question, 3, "opts")) is None  # other tenant
        assert await two.get(CacheKey("t", key.question, 3, "other")) is None  # other options
    finally:
        await one.close()
        await two.close()


async def test_generations_and_pending_changes_are_shared(valkey_server: ValkeyProcess) -> None:
    one, two = ValkeyState(valkey_server.url, 1.0), ValkeyState(valkey_server.url, 1.0)
    try:
        assert await two.read("t") == (0, {})
        assert await one.bump("t", "doc", 5, 1000.0) == 1
        assert await two.read("t") == (1, {"doc": (5, 1000.0)})
        assert await two.bump("t", "doc", 6, 1001.0) == 2
        await one.settle("t", "doc", 5)  # version 6 is pending: settling 5 leaves it
        assert await one.read("t") == (2, {"doc": (6, 1001.0)})
        await one.settle("t", "doc", 6)
        assert await two.read("t") == (2, {})
    finally:
        await one.close()
        await two.close()


async def test_quotas_fail_open_to_local_limits_and_come_back(
    valkey_server: ValkeyProcess, caplog: pytest.LogCaptureFixture
) -> None:
    observed = Observed()
    state = ValkeyState(valkey_server.url, 0.2)
    fail_open = FailOpen(observed, timeout_seconds=0.2, retry_seconds=0.2)
    quotas = TenantQuotas(QuotaBook(LIMITS, {}), state, fail_open)
    try:
        await quotas.admit("t")
        await quotas.admit("t")
        with pytest.raises(RetryLater):  # the shared bucket is empty
            await quotas.admit("t")
        valkey_server.stop()
        with caplog.at_level(logging.WARNING):
            await quotas.admit("t")  # served with this replica's own (full) bucket
        assert not fail_open.up and observed.up == [True, False] and observed.fallbacks == ["admit"]
        assert "shared state unavailable" in caplog.text
        await quotas.admit("t")
        with pytest.raises(RetryLater):  # the local bucket holds the same limits
            await quotas.admit("t")
        valkey_server.start()  # empty: a fresh bucket
        await asyncio.sleep(0.25)  # the retry interval
        await quotas.admit("t")
        assert fail_open.up and observed.up == [True, False, True]
        await quotas.admit("t")
        with pytest.raises(RetryLater):  # the shared bucket again: its burst of 2 is spent
            await quotas.admit("t")
    finally:
        await state.close()


async def test_a_frozen_valkey_costs_each_request_at_most_its_timeout(valkey_server: ValkeyProcess) -> None:
    """SIGSTOP: connections open, nothing answers. The call must give up at its timeout, and while
    the store is marked down requests do not wait on it at all."""
    observed = Observed()
    state = ValkeyState(valkey_server.url, 0.2)
    fail_open = FailOpen(observed, timeout_seconds=0.2, retry_seconds=30)
    answers = Answers(AnswerCache(60, 0.95, 8), state, fail_open)
    generations = FailOpenGenerations(state, fail_open)
    key = CacheKey("t", "q", 1, "o")
    try:
        await answers.store(key, [1.0, 0.0], _answer("kept"))
        valkey_server.freeze()
        # Bounded by pytest-timeout and this guard, not measured: a hang fails the test.
        assert await asyncio.wait_for(answers.exact(CacheKey("t", "other", 1, "o")), 5) is None
        assert not fail_open.up
        assert await asyncio.wait_for(generations.read("t"), 5) is None  # unknown: no cache use
        assert await answers.exact(key) == _answer("kept")  # this replica's own copy still serves
        assert observed.fallbacks == ["cache_get", "generation"]
    finally:
        valkey_server.thaw()
        await state.close()


async def test_changes_published_while_valkey_is_away_reach_it_when_it_is_back(valkey_server: ValkeyProcess) -> None:
    state = ValkeyState(valkey_server.url, 0.2)
    fail_open = FailOpen(Observed(), timeout_seconds=0.2, retry_seconds=0.0)
    generations = FailOpenGenerations(state, fail_open)
    try:
        assert await generations.bump("t", "doc", 1, 1000.0) == 1
        valkey_server.freeze()
        assert await generations.bump("t", "doc", 2, 1001.0) is None
        valkey_server.thaw()
        # The missed change is written first, so answers cached under generation 1 stop matching.
        # (At least once: the frozen server may still run the timed-out write when it thaws.)
        read = await generations.read("t")
        assert read is not None and read[0] >= 2 and read[1] == {"doc": (2, 1001.0)}
    finally:
        await state.close()
