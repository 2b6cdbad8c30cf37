"""OpenTelemetry setup: one tracer provider per process exporting OTLP to Jaeger, gRPC aio
interceptors for servers and clients (health checks left out), and W3C context in Kafka headers."""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.grpc import (
    aio_client_interceptors,
    filters,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

KafkaHeaders = list[tuple[str, bytes]]


def create_tracer_provider(service_name: str, otlp_endpoint: str) -> TracerProvider:
    """Builds the process's tracer provider and makes it the global one (the gRPC
    instrumentation and log formatter read the global provider and context)."""
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if otlp_endpoint:
        exporter = OTLPSpanExporter(endpoint=otlp_endpoint, insecure=True)
        provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=500))
    trace.set_tracer_provider(provider)
    return provider


def _not_health_check() -> object:
    return filters.negate(filters.health_check())


def client_tracing_interceptors(provider: TracerProvider) -> Sequence[grpc.aio.ClientInterceptor]:
    interceptors: Sequence[grpc.aio.ClientInterceptor] = aio_client_interceptors(
        tracer_provider=provider, filter_=_not_health_check()
    )
    return interceptors


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
