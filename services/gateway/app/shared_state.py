"""Tenant state shared by every gateway replica (rate limits, token quotas, exact answers, index
generations), and what happens when the shared store is away.

Decided behaviour: **fail-open**. When the store (Valkey) does not answer within its short timeout,
the gateway keeps serving with this replica's own in-memory limits and caches — the same rules, per
replica, so a tenant can get up to N times its quota from N replicas while the store is away — and
says so: the ``ragmesh_gateway_shared_state_fallbacks_total`` counter, the
``ragmesh_gateway_shared_state_up`` gauge and one warning log line when the store goes away (one
info line when it is back). Answering questions is the product; the limits protect capacity and
fairness, and the local ones still bound any tenant. A refusal of every request because a cache
process restarted would turn a small outage into a full one.

Nothing waits long for the store: every call has ``timeout_seconds`` (less when the request has
less left). After a failure the store is skipped for ``retry_seconds``; then one request (one
trial at a time) tries it again, and its success brings every request back to the shared state.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from ragmesh_kit.deadlines import timeout_for
from ragmesh_kit.domain import GeneratedAnswer
from services.gateway.app.answer_cache import AnswerCache, CacheKey
from services.gateway.app.ports import (
    GenerationStore,
    SharedAnswers,
    SharedQuotas,
    SharedStateObserver,
    SharedStateUnavailable,
)
from services.gateway.app.quotas import QuotaBook, QuotaLeft, refusal

_log = logging.getLogger(__name__)
T = TypeVar("T")


class FailOpen:
    """Runs each shared-store call with a timeout, and the local alternative when it fails."""

    def __init__(
        self,
        observer: SharedStateObserver,
        timeout_seconds: float,
        retry_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._observer = observer
        self._timeout = timeout_seconds
        self._retry = retry_seconds
        self._clock = clock
        self._down_since: float | None = None
        self._retry_at = 0.0
        self._trial = False  # a request is trying the store while it is marked down
        observer.availability(True)

    @property
    def up(self) -> bool:
        return self._down_since is None

    async def run(self, operation: str, shared: Callable[[], Awaitable[T]], local: Callable[[], T]) -> T:
        trial = False
        if not self.up:
            if self._trial or self._clock() < self._retry_at:
                self._observer.fallback(operation)
                return local()
            self._trial = trial = True
        try:
            result = await asyncio.wait_for(shared(), timeout_for(self._timeout, "the shared-state call"))
        except (SharedStateUnavailable, TimeoutError) as error:
            self._went_down(operation, error)
            self._observer.fallback(operation)
            return local()
        finally:
            if trial:  # only the trial's own end frees the slot (calls begun before the outage end too)
                self._trial = False
        self._came_back()
        return result

    def _went_down(self, operation: str, error: BaseException) -> None:
        now = self._clock()
        self._retry_at = now + self._retry
        if self._down_since is None:
            self._down_since = now
            self._observer.availability(False)
            _log.warning(
                "shared state unavailable: serving with this replica's own limits and caches",
                extra={"fields": {"operation": operation, "reason": str(error) or type(error).__name__}},
            )

    def _came_back(self) -> None:
        if self._down_since is not None:
            _log.info(
                "shared state back: limits and caches shared again",
                extra={"fields": {"down_seconds": round(self._clock() - self._down_since, 3)}},
            )
            self._down_since = None
            self._observer.availability(True)


class TenantQuotas:
    """The ask use case's limits: shared when a store is configured, else (or meanwhile) local."""

    def __init__(self, local: QuotaBook, shared: SharedQuotas | None = None, fail_open: FailOpen | None = None) -> None:
        if (shared is None) != (fail_open is None):
            raise ValueError("a shared quota store needs its fail-open policy, and only then")
        self._local = local
        self._shared = shared
        self._fail_open = fail_open

    async def admit(self, tenant: str) -> None:
        if self._shared is None or self._fail_open is None:
            self._local.admit(tenant)
            return
        limits = self._local.limits(tenant)
        shared = self._shared
        verdict = await self._fail_open.run("admit", lambda: shared.admit(tenant, limits), lambda: None)
        if verdict is None:
            self._local.admit(tenant)
        elif verdict.refused:
            raise refusal(verdict.refused, tenant, limits, verdict.retry_after_seconds)

    async def charge(self, tenant: str, tokens: int) -> QuotaLeft:
        if self._shared is None or self._fail_open is None:
            return self._local.charge(tenant, tokens)
        limits, shared = self._local.limits(tenant), self._shared
        return await self._fail_open.run(
            "charge", lambda: shared.charge(tenant, limits, tokens), lambda: self._local.charge(tenant, tokens)
        )

    async def remaining(self, tenant: str) -> QuotaLeft:
        if self._shared is None or self._fail_open is None:
            return self._local.remaining(tenant)
        limits, shared = self._local.limits(tenant), self._shared
        return await self._fail_open.run(
            "remaining", lambda: shared.remaining(tenant, limits), lambda: self._local.remaining(tenant)
        )


class Answers:
    """Answer caches: exact answers shared across replicas (when a store is configured) and kept
    locally too; the semantic cache stays local (docs/limits.md has the measurement behind that)."""

    def __init__(
        self, local: AnswerCache, shared: SharedAnswers | None = None, fail_open: FailOpen | None = None
    ) -> None:
        if (shared is None) != (fail_open is None):
            raise ValueError("a shared answer store needs its fail-open policy, and only then")
        self._local = local
        self._shared = shared
        self._fail_open = fail_open

    async def exact(self, key: CacheKey) -> GeneratedAnswer | None:
        found = self._local.exact(key)
        if found is not None or self._shared is None or self._fail_open is None:
            return found
        shared = self._shared
        return await self._fail_open.run("cache_get", lambda: shared.get(key), lambda: None)

    def semantic(self, key: CacheKey, vector: Sequence[float]) -> GeneratedAnswer | None:
        return self._local.semantic(key, vector)

    async def store(self, key: CacheKey, vector: Sequence[float], answer: GeneratedAnswer) -> None:
        self._local.drop_older_generations(key.tenant_id, key.generation)
        self._local.store(key, vector, answer)
        if self._shared is not None and self._fail_open is not None:
            shared, ttl = self._shared, self._local.ttl_seconds
            await self._fail_open.run("cache_put", lambda: shared.put(key, answer, ttl), lambda: None)


class MemoryGenerations:
    """Index generations of this replica only (no shared store, or while it is away)."""

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}
        self._pending: dict[str, dict[str, tuple[int, float]]] = {}

    async def bump(self, tenant: str, document: str, version: int, now: float) -> int | None:
        self._numbers[tenant] = self._numbers.get(tenant, 0) + 1
        self._pending.setdefault(tenant, {})[document] = (version, now)
        return self._numbers[tenant]

    async def read(self, tenant: str) -> tuple[int, dict[str, tuple[int, float]]] | None:
        return self._numbers.get(tenant, 0), dict(self._pending.get(tenant, {}))

    async def settle(self, tenant: str, document: str, version: int) -> None:
        pending = self._pending.get(tenant, {})
        # A newer change of the same document may have been published meanwhile: it stays.
        if pending.get(document, (None, 0.0))[0] == version:
            del pending[document]


class FailOpenGenerations:
    """Generations in the shared store. While it is away the generation is unknown (None): answers
    are then neither served from nor stored in the caches, since a change published meanwhile
    through another replica could not be seen. Changes this replica publishes meanwhile are
    written to the store on its first successful call for that tenant, so cached answers from
    before them stop matching."""

    def __init__(self, shared: GenerationStore, fail_open: FailOpen) -> None:
        self._shared = shared
        self._fail_open = fail_open
        self._missed: dict[str, list[tuple[str, int, float]]] = {}

    async def bump(self, tenant: str, document: str, version: int, now: float) -> int | None:
        async def shared() -> int | None:
            await self._replay(tenant)
            return await self._shared.bump(tenant, document, version, now)

        number = await self._fail_open.run("generation", shared, lambda: None)
        if number is None:
            self._missed.setdefault(tenant, []).append((document, version, now))
        return number

    async def read(self, tenant: str) -> tuple[int, dict[str, tuple[int, float]]] | None:
        async def shared() -> tuple[int, dict[str, tuple[int, float]]] | None:
            await self._replay(tenant)
            return await self._shared.read(tenant)

        return await self._fail_open.run("generation", shared, lambda: None)

    async def settle(self, tenant: str, document: str, version: int) -> None:
        await self._fail_open.run("generation", lambda: self._shared.settle(tenant, document, version), lambda: None)

    async def _replay(self, tenant: str) -> None:
        missed = self._missed.get(tenant)
        while missed:
            document, version, since = missed[0]
            await self._shared.bump(tenant, document, version, since)
            missed.pop(0)
        self._missed.pop(tenant, None)
