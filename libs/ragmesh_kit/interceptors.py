"""The one server interceptor of every service: per call it opens the SERVER span (the caller's W3C
context from the metadata), records the call's deadline (``ragmesh_kit.deadlines``), maps failures
to gRPC status codes, observes the RPC latency histogram and writes the access-log line.

One interceptor instead of a stack of three (OpenTelemetry's, metrics, error mapping): each layer
of grpc.aio interception costs a rebuilt handler, a coroutine frame per call, and OpenTelemetry's
a proxy of the servicer context; under load that was a large share of every service's CPU. The
wrapped handler is built once per method, not per call."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import unquote

import grpc
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from ragmesh_kit import deadlines
from ragmesh_kit.errors import InvalidArgument, RagmeshError
from ragmesh_kit.handlers import rewrap
from ragmesh_kit.metrics import ServiceMetrics
from ragmesh_kit.telemetry import current_trace_id

_log = logging.getLogger(__name__)
_access = logging.getLogger("ragmesh.access")

HEALTH_PREFIX = "/grpc.health.v1.Health/"
# Codes that mark the server's span as failed (as OpenTelemetry's gRPC instrumentation does: a
# caller's bad input is not the server's error).
_SERVER_ERRORS = {
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DATA_LOSS,
}


class _Undecodable:
    """Stands for a request whose bytes did not parse, so the caller gets INVALID_ARGUMENT (gRPC
    itself would answer UNKNOWN)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _lenient(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if deserializer is None:
        return None

    def parse(raw: bytes) -> Any:
        try:
            return deserializer(raw)
        except Exception as error:  # noqa: BLE001 - any parse failure is the caller's bad input
            return _Undecodable(f"{type(error).__name__}: {error}")

    return parse


def _decoded(request: Any) -> Any:
    if isinstance(request, _Undecodable):
        raise InvalidArgument(f"the request message does not parse ({request.reason})")
    return request


@functools.lru_cache(maxsize=4096)
def _peer_attributes(peer: str) -> Mapping[str, str]:
    """net.peer.* as OpenTelemetry's gRPC instrumentation writes them (ipv4:127.0.0.1:57284); a
    peer is one connection, which carries many calls: parsed once."""
    if peer.startswith("unix:"):
        return {}
    try:
        ip, port = peer.split(",")[0].split(":", 1)[1].rsplit(":", 1)
    except (IndexError, ValueError):
        return {}
    ip = unquote(ip)
    attributes = {"net.peer.ip": ip, "net.peer.port": port}
    if ip in ("[::1]", "127.0.0.1"):
        attributes["net.peer.name"] = "localhost"
    return attributes


class _Call:
    """What one RPC needs from start to end: span, timing, deadline token."""

    __slots__ = ("deadline", "failed_code", "failed_details", "method", "scope", "span", "started")

    def __init__(self, owner: ServerCallInterceptor, method: str, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        self.method = method
        self.started = time.perf_counter()
        self.deadline = deadlines.start(context.time_remaining())
        self.span: trace.Span | None = None
        self.scope: object | None = None
        # Set by ``_fail`` before it aborts: the status the call ends with.
        self.failed_code: grpc.StatusCode | None = None
        self.failed_details = ""
        tracer = owner.tracer
        if tracer is not None:
            metadata = context.invocation_metadata() or ()
            carrier = {key: value for key, value in metadata if isinstance(value, str)}
            parent = propagate.extract(carrier) if "traceparent" in carrier else None
            attributes: dict[str, str | int] = {"rpc.system": "grpc", "rpc.grpc.status_code": 0, **owner.names[method]}
            if "user-agent" in carrier:
                attributes["rpc.user_agent"] = carrier["user-agent"]
            attributes.update(_peer_attributes(context.peer()))
            self.span = tracer.start_span(method, context=parent, kind=SpanKind.SERVER, attributes=attributes)
            self.scope = otel_context.attach(trace.set_span_in_context(self.span, parent))

    def finish(self, owner: ServerCallInterceptor, code: grpc.StatusCode, details: str = "") -> None:
        elapsed = time.perf_counter() - self.started
        if owner.metrics is not None:
            owner.metrics.observe_rpc(self.method, code.name, elapsed)
        # One access-log line per call, inside the call's span, so it carries trace_id.
        fields = {"method": self.method, "code": code.name, "duration_ms": round(elapsed * 1000, 2)}
        _access.info("rpc", extra={"fields": fields})
        if self.span is not None:
            if code is not grpc.StatusCode.OK:
                self.span.set_attribute("rpc.grpc.status_code", code.value[0])
                if code in _SERVER_ERRORS:
                    self.span.set_status(Status(StatusCode.ERROR, f"{code}:{details}"))
            self.span.end()
        if self.scope is not None:
            otel_context.detach(self.scope)  # type: ignore[arg-type]
        deadlines.reset(self.deadline)


def _code_of(context: grpc.aio.ServicerContext[Any, Any], default: grpc.StatusCode) -> grpc.StatusCode:
    code = context.code()
    return code if isinstance(code, grpc.StatusCode) else default


async def _fail(call: _Call, context: grpc.aio.ServicerContext[Any, Any], error: BaseException) -> grpc.StatusCode:
    """Aborts the call with the error's status; returns the code (the abort itself raises)."""
    if isinstance(error, RagmeshError):
        _log.info(
            "request refused",
            extra={"fields": {"method": call.method, "status": error.status_code.name, "reason": error.message}},
        )
        code, details = error.status_code, error.message
    else:
        _log.exception("unexpected failure in %s", call.method, exc_info=error)
        if call.span is not None:
            call.span.record_exception(error)
        code, details = grpc.StatusCode.INTERNAL, f"internal error; trace id {current_trace_id() or 'unknown'}"
    call.failed_code, call.failed_details = code, details
    await context.abort(code, details)
    return code  # pragma: no cover - abort raises


class ServerCallInterceptor(grpc.aio.ServerInterceptor):
    """Tracing (``tracer_provider``), metrics (``metrics``) and error mapping for every RPC; health
    checks pass untouched (no span, no series, no log line). ``RagmeshError`` subclasses become
    their status code, a request that does not parse INVALID_ARGUMENT, anything else INTERNAL."""

    def __init__(
        self, tracer_provider: trace.TracerProvider | None = None, metrics: ServiceMetrics | None = None
    ) -> None:
        self.tracer = tracer_provider.get_tracer("ragmesh_kit.server") if tracer_provider is not None else None
        self.metrics = metrics
        self.names: dict[str, dict[str, str]] = {}
        self._handlers: dict[str, grpc.RpcMethodHandler[Any, Any]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        method = handler_call_details.method
        wrapped = self._handlers.get(method)
        if wrapped is not None:
            return wrapped
        handler = await continuation(handler_call_details)
        if handler is None or method.startswith(HEALTH_PREFIX):
            return handler
        service, _, name = method.lstrip("/").partition("/")
        self.names[method] = {"rpc.service": service, "rpc.method": name}
        wrapped = rewrap(
            handler,
            lambda behavior: self._unary(behavior, method),
            lambda behavior: self._stream(behavior, method),
            request_deserializer=_lenient(handler.request_deserializer),
        )
        self._handlers[method] = wrapped
        return wrapped

    def _unary(self, behavior: Callable[..., Awaitable[Any]], method: str) -> Callable[..., Awaitable[Any]]:
        async def handle(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            call = _Call(self, method, context)
            code, details = grpc.StatusCode.OK, ""
            try:
                return await behavior(_decoded(request), context)
            except grpc.aio.AbortError:
                code = _code_of(context, grpc.StatusCode.UNKNOWN)
                details = call.failed_details
                raise
            except BaseException as error:
                if not isinstance(error, Exception):  # cancelled: the caller went away
                    code = grpc.StatusCode.CANCELLED
                    raise
                code = await _fail(call, context, error)
            finally:
                call.finish(self, call.failed_code or code, details)

        return handle

    def _stream(self, behavior: Callable[..., AsyncIterator[Any]], method: str) -> Callable[..., AsyncIterator[Any]]:
        async def handle(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
            call = _Call(self, method, context)
            code, details = grpc.StatusCode.OK, ""
            try:
                async for response in behavior(_decoded(request), context):
                    yield response
            except grpc.aio.AbortError:
                code = _code_of(context, grpc.StatusCode.UNKNOWN)
                details = call.failed_details
                raise
            except BaseException as error:
                if not isinstance(error, Exception):
                    code = grpc.StatusCode.CANCELLED
                    raise
                code = await _fail(call, context, error)
            finally:
                call.finish(self, call.failed_code or code, details)

        return handle
