"""Prometheus metrics of one service: its own registry (no process-wide globals), RPC latency by
method and status (recorded by ``interceptors.ServerCallInterceptor``), and helpers for
service-specific series."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

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
        self._rpc_children: dict[tuple[str, str], Any] = {}

    def observe_rpc(self, method: str, code: str, seconds: float) -> None:
        """One call into ``rpc_duration`` (the labelled child is looked up once per method and code)."""
        child = self._rpc_children.get((method, code))
        if child is None:
            child = self._rpc_children[(method, code)] = self.rpc_duration.labels(method, code)
        child.observe(seconds)

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
