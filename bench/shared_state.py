"""What the gateway's shared tenant state costs per question, against a running valkey-server:
`python -m bench.shared_state valkey://127.0.0.1:6379/0`. Measures the quota script (admit), an
exact-cache lookup, and the two ways a semantic cache could run: this replica's own scan (today)
or every replica fetching the tenant's vectors from Valkey and scanning them (sharing it).
These figures decided that the semantic cache stays local (docs/limits.md)."""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable

import numpy as np

from ragmesh_kit.domain import Citation, GeneratedAnswer, TokenUsage
from services.gateway.adapters.valkey_state import ValkeyState
from services.gateway.app.answer_cache import AnswerCache, CacheKey
from services.gateway.app.quotas import TenantLimits

ENTRIES = 512  # GATEWAY_CACHE_MAX_ENTRIES_PER_TENANT
DIM = 384
ROUNDS = 300


async def _p50_ms(action: Callable[[], Awaitable[object]], rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        await action()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 3)


async def measure(url: str) -> dict[str, float]:
    state = ValkeyState(url, 1.0, prefix="bench:")
    limits = TenantLimits(rpm=10**9, tpm=10**9, tpd=10**12)
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((ENTRIES, DIM)).astype(np.float32)
    answer = GeneratedAnswer("an answer " * 40, [Citation("d", "d#0", 0.8, "T", "quote " * 30, 1)], TokenUsage(300, 60))
    local = AnswerCache(600, 0.95, ENTRIES)
    for number in range(ENTRIES):
        local.store(CacheKey("t", f"q{number}", 1, "o"), vectors[number].tolist(), answer)
    await state.put(CacheKey("t", "q0", 1, "o"), answer, 600)
    # The shared semantic alternative: the tenant's vectors in one hash (float32 bytes).
    raw = state._client  # the bench reaches the client directly: no port exists for this design
    await raw.delete("bench:sem:{t}")
    await raw.hset("bench:sem:{t}", mapping={f"q{n}": vectors[n].tobytes() for n in range(ENTRIES)})
    query = rng.standard_normal(DIM).astype(np.float32)

    async def shared_semantic() -> object:
        blobs = await raw.hgetall("bench:sem:{t}")
        matrix = np.frombuffer(b"".join(blobs.values()), dtype=np.float32).reshape(-1, DIM)
        return int(np.argmax(matrix @ query))

    async def local_semantic() -> object:
        return local.semantic(CacheKey("t", "other", 1, "o"), query.tolist())

    async def local_numpy_semantic() -> object:  # the same scan as one matrix product, for scale
        return int(np.argmax(vectors @ query))

    try:
        return {
            "quota_admit_p50_ms": await _p50_ms(lambda: state.admit("bench-tenant", limits)),
            "exact_get_hit_p50_ms": await _p50_ms(lambda: state.get(CacheKey("t", "q0", 1, "o"))),
            "semantic_local_scan_512_p50_ms": await _p50_ms(local_semantic, 30),
            "semantic_local_numpy_scan_512_p50_ms": await _p50_ms(local_numpy_semantic),
            "semantic_shared_fetch_scan_512_p50_ms": await _p50_ms(shared_semantic, 30),
            "semantic_shared_bytes_per_question": ENTRIES * DIM * 4,
        }
    finally:
        await raw.delete("bench:sem:{t}")
        await state.close()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(measure(sys.argv[1] if len(sys.argv) > 1 else "valkey://127.0.0.1:6379/0")), indent=1))
