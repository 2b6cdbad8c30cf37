"""Outbound gRPC channels: traced, with keepalive; every call passes its own deadline (timeout)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.sdk.trace import TracerProvider

from ragmesh_kit.telemetry import client_tracing_interceptors

MAX_MESSAGE_BYTES = 64 * 1024 * 1024


def open_channel(target: str, tracer_provider: TracerProvider) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(
        target,
        interceptors=client_tracing_interceptors(tracer_provider),
        options=[
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.keepalive_time_ms", 30_000),
            ("grpc.enable_retries", 1),
        ],
    )


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
