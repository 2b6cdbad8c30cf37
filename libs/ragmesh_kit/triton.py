"""A small asyncio client for Triton's gRPC inference API (KServe v2), over a traced channel so
that the W3C context reaches Triton's own OpenTelemetry spans. It speaks the generated stubs that
ship with ``tritonclient`` directly: the aio client of tritonclient cannot ask for the empty final
response that marks the end of a decoupled (streamed) generation."""

from __future__ import annotations

import struct
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
import numpy as np
from numpy.typing import NDArray
from tritonclient.grpc import service_pb2, service_pb2_grpc

from ragmesh_kit.circuit_breaker import OPEN, CircuitBreaker
from ragmesh_kit.deadlines import timeout_for
from ragmesh_kit.errors import DependencyFailed, InvalidArgument, from_rpc_error

# Error messages of a decoupled model's responses that start with this are the caller's fault
# (INVALID_ARGUMENT); Triton's stream replies carry no status code.
INVALID_ARGUMENT_PREFIX = "invalid argument: "

_DTYPES = {"FP32": np.float32, "INT64": np.int64, "INT32": np.int32, "UINT32": np.uint32, "BOOL": np.bool_}


def serialize_bytes(items: Sequence[bytes]) -> bytes:
    """Triton's BYTES wire layout: each element as a 4-byte little-endian length, then the bytes."""
    return b"".join(struct.pack("<I", len(item)) + item for item in items)


def deserialize_bytes(raw: bytes) -> list[bytes]:
    items: list[bytes] = []
    offset = 0
    while offset < len(raw):
        (length,) = struct.unpack_from("<I", raw, offset)
        offset += 4
        items.append(raw[offset : offset + length])
        offset += length
    return items


@dataclass(frozen=True)
class BytesTensor:
    values: Sequence[bytes]
    shape: Sequence[int]


@dataclass(frozen=True)
class BoolTensor:
    values: Sequence[bool]
    shape: Sequence[int]


Tensor = BytesTensor | BoolTensor


def _request(
    model: str, inputs: Mapping[str, Tensor], outputs: Sequence[str], request_id: str = ""
) -> service_pb2.ModelInferRequest:
    request = service_pb2.ModelInferRequest(model_name=model, id=request_id)
    for name, tensor in inputs.items():
        entry = request.inputs.add(name=name, shape=list(tensor.shape))
        if isinstance(tensor, BytesTensor):
            entry.datatype = "BYTES"
            request.raw_input_contents.append(serialize_bytes(tensor.values))
        else:
            entry.datatype = "BOOL"
            request.raw_input_contents.append(np.asarray(tensor.values, dtype=np.bool_).tobytes())
    for name in outputs:
        request.outputs.add(name=name)
    return request


def _outputs(response: service_pb2.ModelInferResponse) -> dict[str, NDArray[Any] | list[bytes]]:
    result: dict[str, NDArray[Any] | list[bytes]] = {}
    for index, output in enumerate(response.outputs):
        raw = response.raw_output_contents[index] if index < len(response.raw_output_contents) else b""
        if output.datatype == "BYTES":
            result[output.name] = deserialize_bytes(raw)
        else:
            result[output.name] = np.frombuffer(raw, dtype=_DTYPES[output.datatype]).reshape(list(output.shape))
    return result


@dataclass(frozen=True)
class StreamedResponse:
    outputs: dict[str, NDArray[Any] | list[bytes]]
    final: bool


# Failures that mean "Triton is not there or not keeping up", which the breaker counts; a bad
# request (INVALID_ARGUMENT), a model's own error or a cancelled caller says nothing about Triton's
# health and only releases the breaker's trial.
_OUTAGE_CODES = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.INTERNAL}


def is_outage(error: BaseException) -> bool:
    cause = error if isinstance(error, grpc.aio.AioRpcError) else error.__cause__
    return isinstance(cause, grpc.aio.AioRpcError) and cause.code() in _OUTAGE_CODES


class TritonModelError(DependencyFailed):
    """The model answered with an error of its own (Triton itself is up)."""


class TritonClient:
    def __init__(
        self, channel: grpc.aio.Channel, timeout_seconds: float, breaker: CircuitBreaker | None = None
    ) -> None:
        self._stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
        self._timeout = timeout_seconds
        self.breaker = breaker or CircuitBreaker("triton")

    async def model_ready(self, model: str) -> bool:
        """Ready when Triton says so and the breaker is not open: health follows the breaker, and
        after its cool-down (half-open) it follows Triton again."""
        if self.breaker.state == OPEN:
            return False
        try:
            reply = await self._stub.ModelReady(
                service_pb2.ModelReadyRequest(name=model), timeout=min(self._timeout, 2.0)
            )
        except grpc.aio.AioRpcError:
            return False
        return bool(reply.ready)

    async def model_inputs(self, model: str) -> set[str]:
        """The input names the model declares (optional ones included)."""
        try:
            reply = await self._stub.ModelMetadata(
                service_pb2.ModelMetadataRequest(name=model), timeout=timeout_for(min(self._timeout, 5.0))
            )
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(f"triton model {model}", error) from error
        return {item.name for item in reply.inputs}

    async def output_shape(self, model: str, output: str) -> tuple[int, int]:
        """(max_batch_size, size of ``output``'s last dimension), read from the model's own
        configuration in Triton: the one source of an embedding's dimension."""
        try:
            reply = await self._stub.ModelConfig(
                service_pb2.ModelConfigRequest(name=model), timeout=timeout_for(min(self._timeout, 5.0))
            )
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(f"triton model {model}", error) from error
        for entry in reply.config.output:
            if entry.name == output:
                return int(reply.config.max_batch_size), int(entry.dims[-1])
        raise DependencyFailed(f"triton model {model} has no output {output!r}")

    async def infer(
        self,
        model: str,
        inputs: Mapping[str, Tensor],
        outputs: Sequence[str],
        timeout: float | None = None,
    ) -> dict[str, NDArray[Any] | list[bytes]]:
        try:
            with self.breaker.guard(is_outage):
                seconds = timeout_for(timeout or self._timeout, f"triton model {model}")
                response = await self._stub.ModelInfer(_request(model, inputs, outputs), timeout=seconds)
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(f"triton model {model}", error) from error
        return _outputs(response)

    async def stream(
        self, model: str, inputs: Mapping[str, Tensor], outputs: Sequence[str], timeout: float | None = None
    ) -> AsyncGenerator[StreamedResponse, None]:
        """Runs one request on a decoupled model and yields its responses until the final one.
        Leaving the iteration early (or cancelling the task) cancels the gRPC stream, which
        cancels the request inside Triton. The first response ends the breaker's verdict on the
        call (Triton is up), so a consumer that stops early never holds a trial."""
        request = _request(model, inputs, outputs)
        request.parameters["triton_enable_empty_final_response"].bool_param = True
        with self.breaker.guard(is_outage) as guarded:
            call = self._stub.ModelStreamInfer(timeout=timeout_for(timeout or self._timeout, f"triton model {model}"))
            try:
                await call.write(request)
                async for reply in call:
                    if reply.error_message:
                        # A stream's error carries a message only; models mark the caller's faults in it.
                        if reply.error_message.startswith(INVALID_ARGUMENT_PREFIX):
                            raise InvalidArgument(f"triton model {model}: {reply.error_message}")
                        raise TritonModelError(f"triton model {model}: {reply.error_message}")
                    guarded.succeeded()
                    final = reply.infer_response.parameters["triton_final_response"].bool_param
                    yield StreamedResponse(outputs=_outputs(reply.infer_response), final=final)
                    if final:
                        # Half-close and let Triton end the stream, so the call completes cleanly.
                        await call.done_writing()
            except grpc.aio.AioRpcError as error:
                raise from_rpc_error(f"triton model {model}", error) from error
            finally:
                if not call.done():
                    call.cancel()
