"""One error type per failure kind. Services raise these; one server interceptor maps them to gRPC
status codes (see ``interceptors.ServerCallInterceptor``), so no handler sets a status by hand."""

from __future__ import annotations

import grpc


class RagmeshError(Exception):
    """Base of every error a service reports to its caller."""

    status_code: grpc.StatusCode = grpc.StatusCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(RagmeshError):
    status_code = grpc.StatusCode.INVALID_ARGUMENT


class Unauthenticated(RagmeshError):
    status_code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDenied(RagmeshError):
    status_code = grpc.StatusCode.PERMISSION_DENIED


class NotFound(RagmeshError):
    status_code = grpc.StatusCode.NOT_FOUND


class ResourceExhausted(RagmeshError):
    status_code = grpc.StatusCode.RESOURCE_EXHAUSTED


class DependencyUnavailable(RagmeshError):
    """A downstream component (Triton, Qdrant, Kafka, another service) cannot be reached."""

    status_code = grpc.StatusCode.UNAVAILABLE


class DeadlineExceeded(RagmeshError):
    status_code = grpc.StatusCode.DEADLINE_EXCEEDED


class DependencyFailed(RagmeshError):
    """A downstream component answered with an error that is not the caller's fault."""

    status_code = grpc.StatusCode.INTERNAL


_PASSED_THROUGH: dict[grpc.StatusCode, type[RagmeshError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.UNAVAILABLE: DependencyUnavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
}


def from_rpc_error(dependency: str, error: grpc.aio.AioRpcError) -> RagmeshError:
    """Translates a failed outbound call into the matching error, naming the dependency."""
    kind = _PASSED_THROUGH.get(error.code(), DependencyFailed)
    return kind(f"{dependency}: {error.details() or error.code().name}")
