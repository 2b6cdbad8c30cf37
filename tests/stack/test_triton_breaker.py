"""The circuit breaker through ``TritonClient`` against the real Triton: a half-open breaker's
trial always ends, whatever ends the call (a bad request, a model's error, a cancelled caller, a
stream), so the breaker can never lock shut while Triton is up."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import grpc
import pytest

from ragmesh_kit.circuit_breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from ragmesh_kit.errors import DeadlineExceeded, InvalidArgument
from ragmesh_kit.triton import BoolTensor, BytesTensor, Tensor, TritonClient, TritonModelError

TEXT = {"TEXT": BytesTensor([b"the pass statement"], shape=[1, 1])}
# Work minilm cannot finish within a millisecond (a full batch of long texts), so a call given 1 ms
# always runs out of time: a real outage as the caller sees it, whatever the batching window.
HEAVY = {"TEXT": BytesTensor([b" ".join([b"statement"] * 250)] * 64, shape=[64, 1])}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _generation(sampling: str) -> dict[str, Tensor]:
    return {
        "text_input": BytesTensor([b"Question: what does pass do?"], shape=[1]),
        "stream": BoolTensor([True], shape=[1]),
        "sampling_parameters": BytesTensor([sampling.encode()], shape=[1]),
        "exclude_input_in_output": BoolTensor([True], shape=[1]),
    }


@pytest.fixture
async def triton(running_stack) -> AsyncIterator[tuple[TritonClient, Clock]]:
    clock = Clock()
    breaker = CircuitBreaker("triton", failure_threshold=2, reset_seconds=5, clock=clock)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running_stack.settings.triton_grpc_port}") as channel:
        client = TritonClient(channel, timeout_seconds=10, breaker=breaker)
        await client.infer("minilm", TEXT, ["EMBEDDING"])  # warm: the channel is connected
        yield client, clock


async def _half_open(client: TritonClient, clock: Clock) -> None:
    """Two real outages (calls that run out of time), then the cool-down."""
    for _ in range(2):
        with pytest.raises(DeadlineExceeded):
            await client.infer("minilm", HEAVY, ["EMBEDDING"], timeout=1e-3)
    assert client.breaker.state == OPEN
    clock.now += 5
    assert client.breaker.state == HALF_OPEN


async def _closes_on_the_next_call(client: TritonClient) -> None:
    outputs = await client.infer("minilm", TEXT, ["EMBEDDING"])
    assert outputs["EMBEDDING"].shape == (1, 384)  # type: ignore[union-attr]
    assert client.breaker.state == CLOSED


async def test_half_open_then_a_bad_request(triton) -> None:
    client, clock = triton
    await _half_open(client, clock)
    with pytest.raises(InvalidArgument):
        await client.infer("minilm", {"NO_SUCH_INPUT": TEXT["TEXT"]}, ["EMBEDDING"])
    await _closes_on_the_next_call(client)


async def test_half_open_then_a_cancelled_caller(triton) -> None:
    client, clock = triton
    await _half_open(client, clock)
    trial = asyncio.create_task(client.infer("minilm", TEXT, ["EMBEDDING"]))
    await asyncio.sleep(0)  # the trial is admitted and waiting on Triton
    trial.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trial
    assert client.breaker.state == HALF_OPEN  # released without a verdict
    await _closes_on_the_next_call(client)


async def test_half_open_then_a_model_error_in_a_stream(triton) -> None:
    client, clock = triton
    await _half_open(client, clock)
    # The model's own error (marked as the caller's fault or not): Triton is up, the trial is released.
    with pytest.raises((TritonModelError, InvalidArgument)):
        async for _ in client.stream("generator", _generation('{"max_tokens": "many"}'), ["text_output"]):
            pass
    await _closes_on_the_next_call(client)


async def test_half_open_then_a_stream_cancelled_before_its_first_piece(triton) -> None:
    client, clock = triton
    await _half_open(client, clock)

    async def read() -> None:
        async for _ in client.stream("generator", _generation("{}"), ["text_output"]):
            pass

    trial = asyncio.create_task(read())
    await asyncio.sleep(0)  # admitted, its request on the way
    trial.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trial
    assert client.breaker.state == HALF_OPEN  # released without a verdict
    await _closes_on_the_next_call(client)


async def test_half_open_then_a_stream_left_after_its_first_piece(triton) -> None:
    client, clock = triton
    await _half_open(client, clock)
    sampling = json.dumps({"max_tokens": 64, "piece_granularity": "word", "piece_delay_ms": 200})
    stream = client.stream("generator", _generation(sampling), ["text_output"])
    await anext(stream)
    # The first piece proved Triton up: the breaker closed, whatever the reader does next.
    assert client.breaker.state == CLOSED
    await stream.aclose()
    await _closes_on_the_next_call(client)
