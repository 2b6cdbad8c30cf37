"""OpenTelemetry setup: one tracer provider per process exporting OTLP to Jaeger, gRPC aio
client spans of outbound calls (``client_span``; the server side is ``interceptors.ServerCallInterceptor``),
and W3C context in Kafka headers."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import grpc
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

KafkaHeaders = list[tuple[str, bytes]]


class _HashedResource(Resource):
    """The process's resource, hashed once: the OTLP encoder groups every exported span by its
    resource, and ``Resource.__hash__`` serialises all attributes to JSON on each call (a seventh of
    encoding a span)."""

    def __init__(self, resource: Resource) -> None:
        super().__init__(resource.attributes, resource.schema_url)
        self._hash = super().__hash__()

    def __hash__(self) -> int:
        return self._hash


def create_tracer_provider(service_name: str, otlp_endpoint: str) -> TracerProvider:
    """Builds the process's tracer provider and makes it the global one (the gRPC
    instrumentation and log formatter read the global provider and context)."""
    provider = TracerProvider(resource=_HashedResource(Resource.create({"service.name": service_name})))
    if otlp_endpoint:
        exporter = OTLPSpanExporter(endpoint=otlp_endpoint, insecure=True)
        provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=500))
    trace.set_tracer_provider(provider)
    return provider


Metadata = tuple[tuple[str, str], ...]


@functools.cache
def _client_tracer(provider: trace.TracerProvider | None) -> trace.Tracer:
    """One tracer per provider (None: the global one, through OpenTelemetry's proxy until it is
    set): ``get_tracer`` builds a new tracer each time, a visible share of a call's CPU."""
    return trace.get_tracer("ragmesh_kit.client", tracer_provider=provider)


@contextmanager
def client_span(method: str, provider: trace.TracerProvider | None = None) -> Iterator[Metadata]:
    """The CLIENT span of one outbound gRPC call, with the attributes OpenTelemetry's gRPC
    instrumentation writes; yields the metadata that carries its W3C context to the server. Wrap
    the whole call (a stream's reading too) in it. Used instead of client interceptors: an
    intercepted grpc.aio call runs the interceptor chain in an extra task with several layers of
    coroutines, which under load cost more CPU than the span itself."""
    service, _, name = method.lstrip("/").partition("/")
    attributes: dict[str, str | int] = {
        "rpc.system": "grpc",
        "rpc.grpc.status_code": 0,
        "rpc.method": name,
        "rpc.service": service,
    }
    span = _client_tracer(provider).start_span(method, kind=trace.SpanKind.CLIENT, attributes=attributes)
    # Not made the current span: a stream read inside an async generator would otherwise leave it
    # current in the caller's code between pieces.
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=trace.set_span_in_context(span))
    try:
        yield tuple(carrier.items())
    except Exception as error:
        # The call's own failure, or the ragmesh error it was translated into inside the block.
        failed = error if isinstance(error, grpc.aio.AioRpcError) else error.__cause__
        if isinstance(failed, grpc.aio.AioRpcError):
            span.set_attribute("rpc.grpc.status_code", failed.code().value[0])
            span.set_status(trace.Status(trace.StatusCode.ERROR, f"{type(failed).__name__}: {failed.code().name}"))
            span.record_exception(failed)
        raise
    finally:
        span.end()


def current_trace_id() -> str:
    """Hex trace id of the active span, or "" outside a recorded trace."""
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else ""


def traceparent_headers() -> dict[str, str]:
    """W3C headers of the active context, for calls that are not instrumented (Triton)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def kafka_headers_with_context(extra: KafkaHeaders | None = None) -> KafkaHeaders:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    headers = list(extra or [])
    headers.extend((key, value.encode()) for key, value in carrier.items())
    return headers


def context_from_kafka_headers(headers: Sequence[tuple[str, bytes]] | None) -> Context:
    carrier = {key: value.decode(errors="replace") for key, value in headers or ()}
    return propagate.extract(carrier)
