"""The gateways' shared tenant state in Valkey: rate limits and token quotas (one server-side Lua
script per decision, so replicas never race), exact answers, index generations.

A Lua script rather than the ``limits`` package: ``limits`` has fixed/sliding windows and a
token-less moving window, but no token bucket whose level a request may overdraw after the fact
(the token quota is charged when the answer is done, with what it actually used) nor the
per-day counter in the same atomic step; one script keeps the exact rules of ``quotas.QuotaBook``
and costs one round trip per admit or charge. The script reads the server's clock (TIME), so the
replicas' own clocks do not matter.

Keys carry the tenant in a hash tag (``{tenant}``), so one tenant's keys stay in one slot if the
store is ever a cluster. Every call fails with ``SharedStateUnavailable`` on any connection or
timeout error; the fail-open policy (``app/shared_state.py``) decides what happens then.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import valkey.asyncio as valkey
from valkey.exceptions import ValkeyError

from ragmesh_kit.domain import Citation, GeneratedAnswer, TokenUsage
from services.gateway.app.answer_cache import CacheKey
from services.gateway.app.ports import QuotaVerdict, SharedStateUnavailable
from services.gateway.app.quotas import QuotaLeft, TenantLimits

T = TypeVar("T")

# KEYS[1]: the tenant's hash. ARGV: operation (admit|charge|peek), rpm, burst, tpm, tpd, tokens.
# Returns {refused limit or "", retry after seconds, tokens left this minute, tokens left today}.
_QUOTA_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local op = ARGV[1]
local rpm, burst, tpm, tpd = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local s = redis.call('HMGET', KEYS[1], 'rl', 'ru', 'tl', 'tu', 'day', 'used')
local day = math.floor(now / 86400)
local rl = tonumber(s[1]) or burst
local ru = tonumber(s[2]) or now
local tl = tonumber(s[3]) or tpm
local tu = tonumber(s[4]) or now
local used = 0
if tonumber(s[5]) == day then used = tonumber(s[6]) or 0 end
rl = math.min(burst, rl + math.max(0, now - ru) * rpm / 60)
tl = math.min(tpm, tl + math.max(0, now - tu) * tpm / 60)
local refused, wait = '', 0
if op == 'admit' then
  if rl < 1 then
    refused = 'requests'
    if rpm > 0 then wait = (1 - rl) * 60 / rpm else wait = 86400 end
  elseif used >= tpd then
    refused = 'tokens_per_day'
    wait = (day + 1) * 86400 - now
  elseif tl <= 0 then
    refused = 'tokens_per_minute'
    if tpm > 0 then wait = (1 - tl) * 60 / tpm else wait = 86400 end
  else
    rl = rl - 1
  end
elseif op == 'charge' then
  local tokens = tonumber(ARGV[6])
  tl = tl - tokens
  used = used + tokens
end
redis.call('HSET', KEYS[1], 'rl', tostring(rl), 'ru', tostring(now), 'tl', tostring(tl), 'tu', tostring(now),
  'day', tostring(day), 'used', tostring(used))
redis.call('EXPIRE', KEYS[1], 172800)
return {refused, tostring(wait), tostring(math.max(0, math.floor(tl))), tostring(math.max(0, tpd - used))}
"""

# KEYS[1]: the tenant's pending changes. ARGV: document, version. Removes the entry only when it is
# still that version (a newer change published meanwhile stays pending).
_SETTLE_SCRIPT = """
local value = redis.call('HGET', KEYS[1], ARGV[1])
if value and string.match(value, '^[^:]+') == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
"""

# How long a tenant's generation and pending changes are kept after the last change.
_GENERATION_TTL_SECONDS = 30 * 86_400


class ValkeyState:
    """One Valkey client serving ``SharedQuotas``, ``SharedAnswers`` and ``GenerationStore``."""

    def __init__(self, url: str, timeout_seconds: float, prefix: str = "ragmesh:") -> None:
        self._client = valkey.Valkey.from_url(
            url,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            retry_on_timeout=False,
            max_connections=256,
        )
        self._prefix = prefix
        self._quota = self._client.register_script(_QUOTA_SCRIPT)
        self._settle = self._client.register_script(_SETTLE_SCRIPT)

    def _key(self, kind: str, tenant: str, rest: str = "") -> str:
        return f"{self._prefix}{kind}:{{{tenant}}}{rest}"

    async def _call(self, action: Callable[[], Awaitable[T]]) -> T:
        try:
            return await action()
        except (ValkeyError, OSError) as error:
            raise SharedStateUnavailable(f"valkey: {error}") from error

    async def close(self) -> None:
        await self._client.aclose()

    async def ping(self) -> bool:
        return bool(await self._call(self._client.ping))

    # SharedQuotas
    async def _quota_call(self, op: str, tenant: str, limits: TenantLimits, tokens: int = 0) -> QuotaVerdict:
        args = [op, limits.rpm, limits.request_burst, limits.tpm, limits.tpd, tokens]
        reply: list[Any] = await self._call(lambda: self._quota(keys=[self._key("q", tenant)], args=args))
        refused, wait, minute, today = (item.decode() if isinstance(item, bytes) else str(item) for item in reply)
        return QuotaVerdict(refused, float(wait), QuotaLeft(int(float(minute)), int(float(today))))

    async def admit(self, tenant: str, limits: TenantLimits) -> QuotaVerdict:
        return await self._quota_call("admit", tenant, limits)

    async def charge(self, tenant: str, limits: TenantLimits, tokens: int) -> QuotaLeft:
        return (await self._quota_call("charge", tenant, limits, tokens)).left

    async def remaining(self, tenant: str, limits: TenantLimits) -> QuotaLeft:
        return (await self._quota_call("peek", tenant, limits)).left

    # SharedAnswers
    def _answer_key(self, key: CacheKey) -> str:
        digest = hashlib.sha256(f"{key.question}\0{key.generation}\0{key.options}".encode()).hexdigest()
        return self._key("a", key.tenant_id, f":{digest}")

    async def get(self, key: CacheKey) -> GeneratedAnswer | None:
        raw = await self._call(lambda: self._client.get(self._answer_key(key)))
        if raw is None:
            return None
        data = json.loads(raw)
        return GeneratedAnswer(
            answer=data["answer"],
            citations=[Citation(**citation) for citation in data["citations"]],
            usage=TokenUsage(**data["usage"]),
        )

    async def put(self, key: CacheKey, answer: GeneratedAnswer, ttl_seconds: float) -> None:
        value = json.dumps(
            {
                "answer": answer.answer,
                "citations": [citation.__dict__ for citation in answer.citations],
                "usage": answer.usage.__dict__,
            }
        )
        milliseconds = max(1, int(ttl_seconds * 1000))
        await self._call(lambda: self._client.set(self._answer_key(key), value, px=milliseconds))

    # GenerationStore
    async def bump(self, tenant: str, document: str, version: int, now: float) -> int:
        generation, pending = self._key("g", tenant), self._key("p", tenant)

        async def write() -> list[Any]:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.hset(pending, document, f"{version}:{now}")
                pipe.incr(generation)
                pipe.expire(pending, _GENERATION_TTL_SECONDS)
                pipe.expire(generation, _GENERATION_TTL_SECONDS)
                return list(await pipe.execute())

        return int((await self._call(write))[1])

    async def read(self, tenant: str) -> tuple[int, dict[str, tuple[int, float]]]:
        async def fetch() -> list[Any]:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.get(self._key("g", tenant))
                pipe.hgetall(self._key("p", tenant))
                return list(await pipe.execute())

        number, entries = await self._call(fetch)
        pending: dict[str, tuple[int, float]] = {}
        for document, value in entries.items():
            version, _, since = value.decode().partition(":")
            pending[document.decode()] = (int(version), float(since))
        return int(number or 0), pending

    async def settle(self, tenant: str, document: str, version: int) -> None:
        await self._call(lambda: self._settle(keys=[self._key("p", tenant)], args=[document, str(version)]))
