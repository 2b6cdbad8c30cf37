"""The process's resource is hashed once; it must hash and compare like the SDK's own, so the OTLP
encoder still groups every span of the process under one resource."""

from __future__ import annotations

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider

from ragmesh_kit.telemetry import _HashedResource


def test_hashed_resource_groups_spans_like_the_sdk_resource() -> None:
    plain = Resource.create({"service.name": "svc"})
    hashed = _HashedResource(plain)
    assert hash(hashed) == hash(plain) and hashed == plain
    tracer = TracerProvider(resource=hashed).get_tracer("test")
    spans: list[ReadableSpan] = []
    for name in ("first", "second"):
        span = tracer.start_span(name)
        span.end()
        assert isinstance(span, ReadableSpan)
        spans.append(span)
    [resource_spans] = encode_spans(spans).resource_spans
    assert {(a.key, a.value.string_value) for a in resource_spans.resource.attributes} >= {("service.name", "svc")}
    assert [s.name for scope in resource_spans.scope_spans for s in scope.spans] == ["first", "second"]
