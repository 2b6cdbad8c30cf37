"""Prometheus series of the gateway (on the service's own registry), and the same facts on the
request's span so a slow answer in Jaeger shows where its time went."""

from __future__ import annotations

from opentelemetry import trace

from ragmesh_kit.metrics import LATENCY_BUCKETS, ServiceMetrics


class AskMetrics:
    def __init__(self, metrics: ServiceMetrics) -> None:
        self._first_piece = metrics.histogram(
            "ragmesh_gateway_time_to_first_piece_seconds",
            "Seconds from receiving a question to sending the first piece of its answer, by cache status.",
            ["cache"],
            LATENCY_BUCKETS,
        )
        self._answered = metrics.histogram(
            "ragmesh_gateway_answer_seconds",
            "Seconds from receiving a question to its final message, by cache status.",
            ["cache"],
            LATENCY_BUCKETS,
        )
        self._cache = metrics.counter(
            "ragmesh_gateway_answer_cache_total", "Answers by cache status (miss, exact_hit, ...).", ["cache"]
        )
        self._refused = metrics.counter(
            "ragmesh_gateway_quota_refusals_total",
            "Questions refused with RESOURCE_EXHAUSTED, by limit (requests, tokens_per_minute, tokens_per_day).",
            ["limit"],
        )

    def first_piece(self, seconds: float, cache: str) -> None:
        self._first_piece.labels(cache).observe(seconds)
        trace.get_current_span().set_attribute("ragmesh.ttft_ms", round(seconds * 1000, 3))

    def answered(self, seconds: float, cache: str) -> None:
        self._answered.labels(cache).observe(seconds)
        self._cache.labels(cache).inc()
        span = trace.get_current_span()
        span.set_attribute("ragmesh.answer_ms", round(seconds * 1000, 3))
        span.set_attribute("ragmesh.cache", cache)

    def refused(self, reason: str) -> None:
        self._refused.labels(reason).inc()
        trace.get_current_span().set_attribute("ragmesh.refused", reason)


class SharedStateMetrics:
    """Whether the shared tenant state (Valkey) answers, and how often this replica did without it."""

    def __init__(self, metrics: ServiceMetrics) -> None:
        self._up = metrics.gauge(
            "ragmesh_gateway_shared_state_up",
            "1 while the shared tenant state (Valkey) answers; 0 while this replica uses its own limits and caches.",
        )
        self._fallbacks = metrics.counter(
            "ragmesh_gateway_shared_state_fallbacks_total",
            "Operations served without the shared tenant state (Valkey away), by operation.",
            ["operation"],
        )

    def availability(self, up: bool) -> None:
        self._up.set(1 if up else 0)

    def fallback(self, operation: str) -> None:
        self._fallbacks.labels(operation).inc()
