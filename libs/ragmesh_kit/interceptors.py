"""The one place where failures become gRPC status codes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from ragmesh_kit import deadlines
from ragmesh_kit.errors import InvalidArgument, RagmeshError
from ragmesh_kit.handlers import rewrap
from ragmesh_kit.telemetry import current_trace_id

_log = logging.getLogger(__name__)


async def _abort(context: grpc.aio.ServicerContext[Any, Any], error: BaseException, method: str) -> None:
    if isinstance(error, RagmeshError):
        _log.info(
            "request refused",
            extra={"fields": {"method": method, "status": error.status_code.name, "reason": error.message}},
        )
        await context.abort(error.status_code, error.message)
    _log.exception("unexpected failure in %s", method, exc_info=error)
    await context.abort(grpc.StatusCode.INTERNAL, f"internal error; trace id {current_trace_id() or 'unknown'}")


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


def _wrap_unary(behavior: Callable[..., Awaitable[Any]], method: str) -> Callable[..., Awaitable[Any]]:
    async def handle(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        token = deadlines.start(context.time_remaining())
        try:
            return await behavior(_decoded(request), context)
        except (RagmeshError, Exception) as error:
            if isinstance(error, grpc.aio.AbortError):
                raise
            await _abort(context, error, method)
        finally:
            deadlines.reset(token)

    return handle


def _wrap_stream(behavior: Callable[..., AsyncIterator[Any]], method: str) -> Callable[..., AsyncIterator[Any]]:
    async def handle(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
        # Each RPC runs in a task of its own, so the deadline set here is this call's alone.
        deadlines.start(context.time_remaining())
        try:
            async for response in behavior(_decoded(request), context):
                yield response
        except (RagmeshError, Exception) as error:
            if isinstance(error, grpc.aio.AbortError):
                raise
            await _abort(context, error, method)

    return handle


class ErrorMappingInterceptor(grpc.aio.ServerInterceptor):
    """Maps ``RagmeshError`` subclasses to their status code, a request that does not parse to
    INVALID_ARGUMENT, and anything else to INTERNAL; records each call's deadline for the calls it
    makes (``ragmesh_kit.deadlines``)."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        return rewrap(
            handler,
            lambda behavior: _wrap_unary(behavior, method),
            lambda behavior: _wrap_stream(behavior, method),
            request_deserializer=_lenient(handler.request_deserializer),
        )
