"""Bootstrap of a grpc.aio server: one interceptor for tracing, metrics and errors, standard health
that follows the service's dependencies, reflection, and a graceful drain on SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry.sdk.trace import TracerProvider

from ragmesh_kit.interceptors import ServerCallInterceptor
from ragmesh_kit.metrics import ServiceMetrics
from ragmesh_kit.settings import ServiceSettings
from ragmesh_kit.tls import describe, server_credentials

_log = logging.getLogger(__name__)

ReadinessCheck = Callable[[], Awaitable[bool]]


@dataclass
class GrpcService:
    """What a service's main.py hands to ``serve``."""

    settings: ServiceSettings
    tracer_provider: TracerProvider
    # Full names of the gRPC services registered by ``register`` (for health and reflection).
    service_names: Sequence[str]
    register: Callable[[grpc.aio.Server], None]
    # Named checks of the dependencies; the health status is SERVING only while all pass.
    readiness: dict[str, ReadinessCheck] = field(default_factory=dict)
    # Long-running work beside the server (e.g. a Kafka consume loop), started after the server.
    background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = ()
    # Called in order after the server has drained (stop consumers, close channels).
    shutdown_hooks: Sequence[Callable[[], Awaitable[None]]] = ()
    max_concurrent_rpcs: int | None = None
    # Prometheus registry of the service, served on settings.metrics_port (0: not served).
    metrics: ServiceMetrics | None = None


async def _check_all(checks: dict[str, ReadinessCheck]) -> list[str]:
    failing: list[str] = []
    for name, check in checks.items():
        try:
            ok = await asyncio.wait_for(check(), timeout=5.0)
        except Exception:  # noqa: BLE001 - any failure of a dependency check means "not ready"
            ok = False
        if not ok:
            failing.append(name)
    return failing


# The health service name that answers liveness (kubernetes: livenessProbe.grpc.service).
LIVENESS_SERVICE = "liveness"


async def _follow_readiness(service: GrpcService, servicer: health.aio.HealthServicer, stopping: asyncio.Event) -> None:
    last: list[str] | None = None
    # Consecutive failed checks per dependency. Once ready, one failed check does not make the
    # service NOT_SERVING: callers' channels watch this status (client-side health checking) and
    # stop sending calls at once, so a single slow check under load would be a short outage.
    streak: dict[str, int] = {}
    threshold = max(1, service.settings.health_failures_to_not_ready)
    ever_ready = False
    while not stopping.is_set():
        failed = await _check_all(service.readiness)
        streak = {name: streak.get(name, 0) + 1 for name in failed}
        failing = [name for name in failed if not ever_ready or streak[name] >= threshold]
        ever_ready = ever_ready or not failing
        status = health_pb2.HealthCheckResponse.SERVING if not failing else health_pb2.HealthCheckResponse.NOT_SERVING
        if failing != last:
            _log.info("health changed", extra={"fields": {"not_ready": failing}})
            last = failing
        for name in ("", *service.service_names):
            await servicer.set(name, status)
        try:
            await asyncio.wait_for(stopping.wait(), timeout=service.settings.health_interval_seconds)
        except TimeoutError:
            pass


async def serve(service: GrpcService) -> None:
    settings = service.settings
    metrics = service.metrics or ServiceMetrics(settings.service_name)
    if settings.metrics_port:
        metrics.serve_http(settings.host, settings.metrics_port)
    server = grpc.aio.server(
        interceptors=[ServerCallInterceptor(service.tracer_provider, metrics)],
        maximum_concurrent_rpcs=service.max_concurrent_rpcs or settings.max_concurrent_rpcs,
        options=[
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", settings.max_request_bytes),
            ("grpc.max_send_message_length", 64 * 1024 * 1024),
        ],
    )
    service.register(server)
    health_servicer = health.aio.HealthServicer()
    # Not SERVING until the first readiness check passes (grpc's servicer starts "" at SERVING):
    # callers' channels watch this status and would send a fresh replica calls before it is ready.
    await health_servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*service.service_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME),
        server,
    )
    credentials = server_credentials(settings)
    if credentials is None:
        server.add_insecure_port(settings.listen_address)
    else:
        server.add_secure_port(settings.listen_address, credentials)
    await server.start()
    _log.info("listening", extra={"fields": {"address": settings.listen_address, "transport": describe(settings)}})

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)

    # Liveness ("this process works") is its own health service name, SERVING from here until the
    # drain; readiness ("" and each service) follows the dependencies. A probe of liveness never
    # restarts a pod because Triton is down.
    await health_servicer.set(LIVENESS_SERVICE, health_pb2.HealthCheckResponse.SERVING)
    tasks = [asyncio.create_task(_follow_readiness(service, health_servicer, stopping))]
    tasks.extend(asyncio.create_task(job()) for job in service.background)
    stop_wait = asyncio.create_task(stopping.wait())
    await asyncio.wait([stop_wait, *tasks[1:]], return_when=asyncio.FIRST_COMPLETED)
    for task in tasks[1:]:
        if task.done() and task.exception() is not None:
            _log.error("background task failed", exc_info=task.exception())
    stopping.set()

    _log.info("draining", extra={"fields": {"grace_seconds": settings.drain_seconds}})
    await health_servicer.enter_graceful_shutdown()
    await server.stop(settings.drain_seconds)
    for hook in service.shutdown_hooks:
        try:
            await hook()
        except Exception:  # noqa: BLE001 - later hooks still run
            _log.exception("shutdown hook failed")
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    service.tracer_provider.shutdown()
    _log.info("stopped")
