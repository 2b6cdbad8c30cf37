"""Balanced channels: targets, round-robin over real gRPC servers, health-checked addresses skipped,
calls to a stopped replica retried on the other."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from opentelemetry.sdk.trace import TracerProvider

from ragmesh_kit.channels import channel_target, open_channel
from ragmesh_kit.interceptors import ErrorMappingInterceptor
from tests.eventually import eventually_async


def test_targets() -> None:
    assert channel_target("127.0.0.1:50052") == "127.0.0.1:50052"
    assert channel_target("dns:///embedder:50052") == "dns:///embedder:50052"
    assert channel_target("127.0.0.1:1, 127.0.0.1:2") == "ipv4:127.0.0.1:1,127.0.0.1:2"
    assert channel_target("ipv4:127.0.0.1:1,127.0.0.1:2") == "ipv4:127.0.0.1:1,127.0.0.1:2"
    with pytest.raises(ValueError, match="dns:/// name"):
        channel_target("embedder-0:1,embedder-1:1")
    with pytest.raises(ValueError, match="has no port"):
        channel_target("127.0.0.1,127.0.0.2")


class _Count(grpc.aio.ServerInterceptor):
    def __init__(self, label: str, seen: Counter[str]) -> None:
        self._label, self._seen = label, seen

    async def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]], details: grpc.HandlerCallDetails
    ) -> Any:
        if details.method.endswith("/Check"):
            self._seen[self._label] += 1
        return await continuation(details)


async def _server(label: str, seen: Counter[str]) -> tuple[grpc.aio.Server, health.aio.HealthServicer, int]:
    server = grpc.aio.server(interceptors=[_Count(label, seen)])
    servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    await servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    return server, servicer, port


async def _until_only(stub: health_pb2_grpc.HealthStub, seen: Counter[str], *labels: str) -> None:
    """Calls in rounds of 10 until a round reaches exactly ``labels`` (at most 10 s)."""

    async def a_round() -> bool:
        seen.clear()
        for _ in range(10):
            await stub.Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert set(seen) == set(labels), f"calls never reached exactly {labels}: {seen}"
        return True

    await eventually_async(a_round, f"a round of calls reaching exactly {labels}", timeout=10, interval=0.1)


async def test_calls_spread_skip_not_serving_and_retry_on_the_other() -> None:
    seen: Counter[str] = Counter()
    one, _, port_one = await _server("one", seen)
    two, two_health, port_two = await _server("two", seen)
    channel = open_channel(f"127.0.0.1:{port_one},127.0.0.1:{port_two}", TracerProvider())
    stub = health_pb2_grpc.HealthStub(channel)
    request = health_pb2.HealthCheckRequest()
    try:
        for _ in range(40):
            await stub.Check(request, timeout=5)
        assert seen["one"] >= 10 and seen["two"] >= 10, seen  # round-robin, not pick-first

        await two_health.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
        await _until_only(stub, seen, "one")  # the client's health watch hears it
        seen.clear()
        for _ in range(20):
            await stub.Check(request, timeout=5)
        assert seen == Counter({"one": 20}), seen

        await two_health.set("", health_pb2.HealthCheckResponse.SERVING)
        await _until_only(stub, seen, "one", "two")
        await one.stop(None)  # gone: calls that pick it fail UNAVAILABLE and are retried on two
        for _ in range(20):
            await stub.Check(request, timeout=5)
    finally:
        await channel.close()
        await one.stop(None)
        await two.stop(None)


async def test_client_side_health_checking_works_through_the_error_interceptor() -> None:
    """gRPC's health Watch is a coroutine that writes, not an async iterator: the error interceptor
    must serve it as it is, or every client-side health check fails and no replica gets calls."""
    server = grpc.aio.server(interceptors=[ErrorMappingInterceptor()])
    servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    await servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    channel = open_channel(f"127.0.0.1:{port},127.0.0.1:{port}", TracerProvider())
    try:
        watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(), timeout=5)
        first = await watch.read()
        assert first.status == health_pb2.HealthCheckResponse.SERVING
        watch.cancel()
        # Through the balanced, health-checked channel itself.
        await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    finally:
        await channel.close()
        await server.stop(None)
