"""The one server interceptor on a real grpc.aio server: the SERVER span as the caller's child with
OpenTelemetry's gRPC attributes, status codes from ragmesh errors, INVALID_ARGUMENT for bytes that
do not parse, the latency histogram by method and code, health checks left alone."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from ragmesh_kit.errors import InvalidArgument
from ragmesh_kit.interceptors import ServerCallInterceptor
from ragmesh_kit.metrics import ServiceMetrics
from ragmesh_kit.telemetry import client_span

SERVICE = "test.v1.Probe"
Request = health_pb2.HealthCheckRequest
Reply = health_pb2.HealthCheckResponse


async def _unary(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
    if request.service == "bad":
        raise InvalidArgument("service is bad; send a good one")
    if request.service == "boom":
        raise RuntimeError("a bug")
    return Reply(status=Reply.SERVING)


async def _stream(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
    yield Reply(status=Reply.SERVING)
    if request.service == "bad":
        raise InvalidArgument("stream refused")
    yield Reply(status=Reply.SERVING)


def _handlers() -> grpc.GenericRpcHandler:
    options = {"request_deserializer": Request.FromString, "response_serializer": Reply.SerializeToString}
    return grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "Get": grpc.unary_unary_rpc_method_handler(_unary, **options),
            "List": grpc.unary_stream_rpc_method_handler(_stream, **options),
        },
    )


@pytest.fixture
def exported() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


async def _serve(provider: TracerProvider, metrics: ServiceMetrics) -> tuple[grpc.aio.Server, grpc.aio.Channel]:
    server = grpc.aio.server(interceptors=[ServerCallInterceptor(provider, metrics)])
    server.add_generic_rpc_handlers([_handlers()])
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, grpc.aio.insecure_channel(f"127.0.0.1:{port}")


def _count(metrics: ServiceMetrics, method: str, code: str) -> float:
    value = metrics.registry.get_sample_value(
        "ragmesh_rpc_server_duration_seconds_count", {"method": f"/{SERVICE}/{method}", "code": code}
    )
    return value or 0.0


async def test_spans_codes_and_metrics(exported: tuple[TracerProvider, InMemorySpanExporter]) -> None:
    provider, exporter = exported
    metrics = ServiceMetrics("probe")
    server, channel = await _serve(provider, metrics)
    get = channel.unary_unary(f"/{SERVICE}/Get", Request.SerializeToString, Reply.FromString)
    raw: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(f"/{SERVICE}/Get")
    listing = channel.unary_stream(f"/{SERVICE}/List", Request.SerializeToString, Reply.FromString)
    try:
        caller = provider.get_tracer("test").start_span("caller", kind=SpanKind.CLIENT)
        carrier: dict[str, str] = {}
        propagate.inject(carrier, context=trace.set_span_in_context(caller))
        await get(Request(service="ok"), metadata=tuple(carrier.items()), timeout=5)
        caller.end()
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await get(Request(service="bad"), timeout=5)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert refused.value.details() == "service is bad; send a good one"
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await get(Request(service="boom"), timeout=5)
        assert failed.value.code() == grpc.StatusCode.INTERNAL and "trace id" in (failed.value.details() or "")
        with pytest.raises(grpc.aio.AioRpcError) as garbled:
            await raw(b"\xff\xff\xff", timeout=5)
        assert garbled.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert len([reply async for reply in listing(Request(service="ok"), timeout=5)]) == 2
        with pytest.raises(grpc.aio.AioRpcError) as cut:
            _ = [reply async for reply in listing(Request(service="bad"), timeout=5)]
        assert cut.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        await health_pb2_grpc.HealthStub(channel).Check(Request(), timeout=5)
    finally:
        await channel.close()
        await server.stop(None)

    spans = [span for span in exporter.get_finished_spans() if span.kind == SpanKind.SERVER]
    assert [span.name for span in spans] == [f"/{SERVICE}/Get"] * 4 + [f"/{SERVICE}/List"] * 2  # no health span
    first = spans[0]
    assert first.parent is not None and first.parent.span_id == caller.get_span_context().span_id
    assert first.context.trace_id == caller.get_span_context().trace_id
    assert first.attributes is not None
    assert first.attributes["rpc.system"] == "grpc" and first.attributes["rpc.service"] == SERVICE
    assert first.attributes["rpc.method"] == "Get" and first.attributes["rpc.grpc.status_code"] == 0
    assert first.attributes["net.peer.name"] == "localhost"
    assert spans[1].attributes is not None and spans[1].attributes["rpc.grpc.status_code"] == 3
    assert spans[1].status.status_code == StatusCode.UNSET  # the caller's fault, not the server's
    assert spans[2].status.status_code == StatusCode.ERROR
    assert spans[1].parent is None  # no traceparent sent: a root span
    assert _count(metrics, "Get", "OK") == 1 and _count(metrics, "Get", "INVALID_ARGUMENT") == 2
    assert _count(metrics, "Get", "INTERNAL") == 1
    assert _count(metrics, "List", "OK") == 1 and _count(metrics, "List", "INVALID_ARGUMENT") == 1
    assert (
        metrics.registry.get_sample_value(
            "ragmesh_rpc_server_duration_seconds_count", {"method": "/grpc.health.v1.Health/Check", "code": "OK"}
        )
        is None
    )


async def test_client_span_is_the_server_spans_parent(exported: tuple[TracerProvider, InMemorySpanExporter]) -> None:
    provider, exporter = exported
    server, channel = await _serve(provider, ServiceMetrics("probe"))
    get = channel.unary_unary(f"/{SERVICE}/Get", Request.SerializeToString, Reply.FromString)
    try:
        with client_span(f"/{SERVICE}/Get", provider) as metadata:
            await get(Request(service="ok"), metadata=metadata, timeout=5)
        with pytest.raises(grpc.aio.AioRpcError), client_span(f"/{SERVICE}/Get", provider) as metadata:
            await get(Request(service="boom"), metadata=metadata, timeout=5)
    finally:
        await channel.close()
        await server.stop(None)
    spans = exporter.get_finished_spans()
    clients = [span for span in spans if span.kind == SpanKind.CLIENT]
    servers = [span for span in spans if span.kind == SpanKind.SERVER]
    assert len(clients) == 2 and len(servers) == 2
    for client, served in zip(clients, servers, strict=True):
        assert served.parent is not None and served.parent.span_id == client.context.span_id
        assert client.attributes is not None and client.attributes["rpc.service"] == SERVICE
    assert clients[0].status.status_code == StatusCode.UNSET
    assert clients[1].status.status_code == StatusCode.ERROR
    assert clients[1].attributes is not None and clients[1].attributes["rpc.grpc.status_code"] == 13
