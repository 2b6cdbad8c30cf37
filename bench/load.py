"""A bounded closed-loop load generator: N concurrent callers on localhost, a fixed number of
calls, latency percentiles and throughput."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class LoadResult:
    concurrency: int
    calls: int
    errors: int
    seconds: float
    throughput: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    ttft_p50_ms: float | None = None

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


async def run_load(
    call: Callable[[int], Awaitable[float | None]], concurrency: int, total_calls: int, warmup_calls: int = 0
) -> LoadResult:
    """``call(i)`` does one request and may return a time-to-first-piece in seconds."""
    for index in range(warmup_calls):
        # A failed warm-up call is not measured; the load itself counts errors.
        with contextlib.suppress(Exception):
            await call(index)
    latencies: list[float] = []
    ttfts: list[float] = []
    errors = 0
    next_index = 0

    async def caller() -> None:
        nonlocal next_index, errors
        while next_index < total_calls:
            index = next_index
            next_index += 1
            started = time.perf_counter()
            try:
                ttft = await call(index)
            except Exception:  # noqa: BLE001 - counted, the load goes on
                errors += 1
                continue
            latencies.append(time.perf_counter() - started)
            if ttft is not None:
                ttfts.append(ttft)

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    values = np.array(latencies) * 1000 if latencies else np.array([float("nan")])
    return LoadResult(
        concurrency=concurrency,
        calls=len(latencies),
        errors=errors,
        seconds=round(seconds, 3),
        throughput=round(len(latencies) / seconds, 2),
        p50_ms=round(float(np.percentile(values, 50)), 2),
        p95_ms=round(float(np.percentile(values, 95)), 2),
        p99_ms=round(float(np.percentile(values, 99)), 2),
        ttft_p50_ms=round(float(np.percentile(np.array(ttfts) * 1000, 50)), 2) if ttfts else None,
    )
