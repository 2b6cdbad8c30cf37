"""Per-tenant request rate limit and token quotas, kept in this process.

This book is the limits of a single gateway, and every replica's fallback: with the shared store
set (GATEWAY_VALKEY_URL, see ``shared_state.py``) the same rules run inside Valkey, atomically for
all replicas, and this book only answers while Valkey cannot.

- Requests: a token bucket of ``burst`` requests refilled at ``rpm``/60 per second.
- Tokens per minute: a token bucket of ``tpm`` tokens refilled at ``tpm``/60 per second, so a
  tenant that has overdrawn waits exactly as long as its deficit takes to refill.
- Tokens per day: a counter per UTC calendar day.
A request is admitted while both token quotas have something left; its actual usage (prompt +
completion tokens, counted with tiktoken by the generator) is charged when it completes, so one
request may overdraw; the next one then waits.

Kept over the `limits` package: its ``hit(cost)`` needs the cost before the request runs and its
windows answer "retry at the window's reset", while tokens are known only after generation and the
retry-after here is the deficit's exact refill time (the same rules as the Valkey script).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from ragmesh_kit.errors import ResourceExhausted

SECONDS_PER_DAY = 86_400


class RetryLater(ResourceExhausted):
    """RESOURCE_EXHAUSTED that says when to retry (message and ``retry-after-seconds`` trailer)."""

    def __init__(self, kind: str, what: str, retry_after_seconds: float) -> None:
        self.kind = kind  # requests, tokens_per_minute or tokens_per_day (a metric label)
        self.retry_after_seconds = max(1, math.ceil(retry_after_seconds))
        super().__init__(f"{what}; retry after {self.retry_after_seconds} seconds")


@dataclass(frozen=True)
class TenantLimits:
    rpm: int
    tpm: int
    tpd: int
    burst: int = 0  # 0: as many requests as rpm

    @property
    def request_burst(self) -> int:
        return self.burst or self.rpm


@dataclass(frozen=True)
class QuotaLeft:
    tokens_this_minute: int
    tokens_today: int


REQUESTS, TOKENS_PER_MINUTE, TOKENS_PER_DAY = "requests", "tokens_per_minute", "tokens_per_day"


def refusal(kind: str, tenant: str, limits: TenantLimits, retry_after_seconds: float) -> RetryLater:
    """The refusal of one limit, worded the same wherever the limit is kept."""
    what = {
        REQUESTS: f"tenant {tenant} exceeded its rate limit of {limits.rpm} requests per minute",
        TOKENS_PER_DAY: f"tenant {tenant} used its token quota of {limits.tpd} tokens per day",
        TOKENS_PER_MINUTE: f"tenant {tenant} used its token quota of {limits.tpm} tokens per minute",
    }[kind]
    return RetryLater(kind, what, retry_after_seconds)


class _Bucket:
    def __init__(self, capacity: float, per_second: float, now: float) -> None:
        self.capacity = capacity
        self.per_second = per_second
        self.level = capacity
        self.updated = now

    def refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.updated) * self.per_second)
        self.updated = now

    def seconds_until(self, level: float) -> float:
        return (level - self.level) / self.per_second if self.per_second > 0 else float(SECONDS_PER_DAY)


class _TenantState:
    def __init__(self, limits: TenantLimits, now: float) -> None:
        self.requests = _Bucket(limits.request_burst, limits.rpm / 60.0, now)
        self.tokens = _Bucket(limits.tpm, limits.tpm / 60.0, now)
        self.day = int(now // SECONDS_PER_DAY)
        self.used_today = 0


class QuotaBook:
    def __init__(
        self,
        defaults: TenantLimits,
        overrides: dict[str, TenantLimits],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._defaults = defaults
        self._overrides = overrides
        self._clock = clock
        self._tenants: dict[str, _TenantState] = {}

    def limits(self, tenant: str) -> TenantLimits:
        return self._overrides.get(tenant, self._defaults)

    def _state(self, tenant: str) -> tuple[_TenantState, float]:
        now = self._clock()
        state = self._tenants.get(tenant)
        if state is None:
            state = self._tenants[tenant] = _TenantState(self.limits(tenant), now)
        state.requests.refill(now)
        state.tokens.refill(now)
        if int(now // SECONDS_PER_DAY) != state.day:
            state.day, state.used_today = int(now // SECONDS_PER_DAY), 0
        return state, now

    def admit(self, tenant: str) -> None:
        """Takes one request from the tenant's rate limit; raises RetryLater when a limit is hit."""
        state, now = self._state(tenant)
        limits = self.limits(tenant)
        if state.requests.level < 1:
            raise refusal(REQUESTS, tenant, limits, state.requests.seconds_until(1))
        if state.used_today >= limits.tpd:
            raise refusal(TOKENS_PER_DAY, tenant, limits, (state.day + 1) * SECONDS_PER_DAY - now)
        if state.tokens.level <= 0:
            raise refusal(TOKENS_PER_MINUTE, tenant, limits, state.tokens.seconds_until(1))
        state.requests.level -= 1

    def charge(self, tenant: str, tokens: int) -> QuotaLeft:
        state, _ = self._state(tenant)
        state.tokens.level -= tokens
        state.used_today += tokens
        return self._left(tenant, state)

    def remaining(self, tenant: str) -> QuotaLeft:
        state, _ = self._state(tenant)
        return self._left(tenant, state)

    def _left(self, tenant: str, state: _TenantState) -> QuotaLeft:
        return QuotaLeft(
            tokens_this_minute=max(0, math.floor(state.tokens.level)),
            tokens_today=max(0, self.limits(tenant).tpd - state.used_today),
        )
