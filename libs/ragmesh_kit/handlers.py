"""Rebuilding a gRPC method handler around wrapped behaviours: the one piece every server
interceptor here needs (the aio API hands over a handler, not a call to intercept)."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import grpc

UnaryBehavior = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]
StreamBehavior = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], AsyncIterator[Any]]


def rewrap(
    handler: grpc.RpcMethodHandler[Any, Any],
    wrap_unary: Callable[[UnaryBehavior], UnaryBehavior],
    wrap_stream: Callable[[StreamBehavior], StreamBehavior],
    request_deserializer: Callable[[bytes], Any] | None = None,
) -> grpc.RpcMethodHandler[Any, Any]:
    """The same handler with its unary-unary or unary-stream behaviour wrapped (other kinds, which
    ragmesh does not serve, are returned unchanged)."""
    deserializer = request_deserializer or handler.request_deserializer
    # grpc's stubs type behaviours with the sync API; the aio server's are coroutine functions.
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(
            wrap_unary(cast(UnaryBehavior, handler.unary_unary)),
            request_deserializer=deserializer,
            response_serializer=handler.response_serializer,
        )
    # A streaming behaviour written as a coroutine that calls context.write() (grpc's own health
    # Watch, which gRPC's client-side health checking streams) is not an async iterator: it is
    # served as it is.
    if handler.unary_stream is not None and inspect.isasyncgenfunction(handler.unary_stream):
        return grpc.unary_stream_rpc_method_handler(
            wrap_stream(cast(StreamBehavior, handler.unary_stream)),
            request_deserializer=deserializer,
            response_serializer=handler.response_serializer,
        )
    return handler
