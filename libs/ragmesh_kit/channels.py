"""Outbound gRPC channels: traced, with keepalive, TLS when given; every call passes its own deadline
(timeout)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.sdk.trace import TracerProvider

from ragmesh_kit.telemetry import client_tracing_interceptors
from ragmesh_kit.tls import ClientTls

MAX_MESSAGE_BYTES = 64 * 1024 * 1024


def open_channel(target: str, tracer_provider: TracerProvider, tls: ClientTls | None = None) -> grpc.aio.Channel:
    """A plaintext channel, or a TLS one with ``tls`` (see ``ragmesh_kit.tls.client_tls``)."""
    options: list[tuple[str, str | int]] = [
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.enable_retries", 1),
    ]
    interceptors = client_tracing_interceptors(tracer_provider)
    if tls is None:
        return grpc.aio.insecure_channel(target, interceptors=interceptors, options=options)
    if tls.target_name:
        options.append(("grpc.ssl_target_name_override", tls.target_name))
    return grpc.aio.secure_channel(target, tls.credentials, interceptors=interceptors, options=options)


def health_check(channel: grpc.aio.Channel, timeout_seconds: float = 2.0) -> Callable[[], Awaitable[bool]]:
    """A readiness check that asks a dependency's standard health service."""
    stub = health_pb2_grpc.HealthStub(channel)

    async def check() -> bool:
        try:
            reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=timeout_seconds)
        except grpc.aio.AioRpcError:
            return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

    return check
