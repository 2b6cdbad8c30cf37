"""Prometheus metrics of one service: its own registry (no process-wide globals), RPC latency by
method and status recorded by a server interceptor, and helpers for service-specific series."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import grpc
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from ragmesh_kit.handlers import StreamBehavior, UnaryBehavior, rewrap

_log = logging.getLogger("ragmesh.access")

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ServiceMetrics:
    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        self.rpc_duration = Histogram(
            "ragmesh_rpc_server_duration_seconds",
            "Server-side duration of gRPC calls, by method and status code.",
            ["method", "code"],
            registry=self.registry,
            buckets=LATENCY_BUCKETS,
        )

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        return Counter(name, documentation, list(labels), registry=self.registry)

    def gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
        return Gauge(name, documentation, list(labels), registry=self.registry)

    def histogram(
        self, name: str, documentation: str, labels: Sequence[str] = (), buckets: Sequence[float] = LATENCY_BUCKETS
    ) -> Histogram:
        return Histogram(name, documentation, list(labels), registry=self.registry, buckets=list(buckets))

    def serve_http(self, host: str, port: int) -> None:
        """Exposes /metrics on its own port (a daemon thread of prometheus_client)."""
        start_http_server(port, addr=host, registry=self.registry)


def _code(context: grpc.aio.ServicerContext[Any, Any], error: BaseException | None) -> str:
    if error is None:
        return "OK"
    code = context.code() if hasattr(context, "code") else None
    if isinstance(code, grpc.StatusCode):
        return code.name
    return "CANCELLED" if isinstance(error, BaseException) and type(error).__name__ == "CancelledError" else "UNKNOWN"


class MetricsInterceptor(grpc.aio.ServerInterceptor):
    """Observes every RPC (health checks excepted) into ``rpc_duration``."""

    def __init__(self, metrics: ServiceMetrics) -> None:
        self._metrics = metrics

    def _observe(
        self, method: str, started: float, context: grpc.aio.ServicerContext[Any, Any], error: BaseException | None
    ) -> None:
        elapsed = time.perf_counter() - started
        code = _code(context, error)
        self._metrics.rpc_duration.labels(method, code).observe(elapsed)
        # One access-log line per call; it runs inside the call's span, so it carries trace_id.
        _log.info("rpc", extra={"fields": {"method": method, "code": code, "duration_ms": round(elapsed * 1000, 2)}})

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith("/grpc.health.v1.Health/"):
            return handler

        def wrap_unary(behavior: UnaryBehavior) -> UnaryBehavior:
            async def unary(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
                started = time.perf_counter()
                try:
                    reply = await behavior(request, context)
                except BaseException as error:
                    self._observe(method, started, context, error)
                    raise
                self._observe(method, started, context, None)
                return reply

            return unary

        def wrap_stream(behavior: StreamBehavior) -> StreamBehavior:
            async def stream(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
                started = time.perf_counter()
                try:
                    async for reply in behavior(request, context):
                        yield reply
                except BaseException as error:
                    self._observe(method, started, context, error)
                    raise
                self._observe(method, started, context, None)

            return stream

        return rewrap(handler, wrap_unary, wrap_stream)
