"""Readiness as callers' channels see it: NOT_SERVING until the first passing check, then only
after ``health_failures_to_not_ready`` failed checks in a row (one slow check is not an outage)."""

from __future__ import annotations

import asyncio

from grpc_health.v1 import health, health_pb2
from opentelemetry.sdk.trace import TracerProvider

from ragmesh_kit.server import GrpcService, _follow_readiness
from ragmesh_kit.settings import ServiceSettings

SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING


class Recorded(health.aio.HealthServicer):  # type: ignore[misc]  # grpc_health ships no types
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[int] = []

    async def set(self, service: str, status: int) -> None:
        if service == "":
            self.seen.append(status)
        await super().set(service, status)


async def test_one_failed_check_does_not_take_a_ready_service_out() -> None:
    results = iter([False, True, False, True, False, False, True])
    stopping = asyncio.Event()

    async def check() -> bool:
        try:
            return next(results)
        except StopIteration:
            stopping.set()
            return True

    settings = ServiceSettings(health_interval_seconds=0.001, health_failures_to_not_ready=2)
    service = GrpcService(settings, TracerProvider(), [], lambda server: None, readiness={"dep": check})
    servicer = Recorded()
    await asyncio.wait_for(_follow_readiness(service, servicer, stopping), 10)
    # Not ready before the first pass; then a single failure is ignored, two in a row are not.
    assert servicer.seen[:7] == [NOT_SERVING, SERVING, SERVING, SERVING, SERVING, NOT_SERVING, SERVING]
