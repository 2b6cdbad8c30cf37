"""Streaming and cancellation through gateway -> generator -> Triton, on a second gateway and
generator beside the session's stack whose generator asks the extractive model to wait between
pieces (its piece_delay_ms sampling parameter), so an answer takes seconds."""

from __future__ import annotations

import time
from collections.abc import Iterator

import grpc
import pytest

from ragmesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from tests.eventually import eventually
from tests.stack.conftest import RunningStack
from tests.stack.test_query_helpers import (
    ExtraService,
    ask_until_cited,
    extra_service,
    gateway_env,
    metric_value,
    submit,
)

DOC = "stream-while"
QUESTION = "What is the while statement used for, and when does the loop terminate?"
PIECE_DELAY_MS = 120


@pytest.fixture(scope="module")
def slow(running_stack: RunningStack, gateway) -> Iterator[tuple[ExtraService, ExtraService]]:
    from pydoc_data.topics import topics

    submit(gateway, running_stack.api_key, DOC, "The while statement", topics["while"])
    ask_until_cited(gateway, running_stack.api_key, QUESTION, DOC)
    generator_env = {
        "GENERATOR_TRITON_URL": f"127.0.0.1:{running_stack.settings.triton_grpc_port}",
        # The extractive model on Triton (not in-process): what is checked is the stream into Triton.
        "GENERATOR_EXTRACTIVE_IN_PROCESS": "false",
        "GENERATOR_EXTRA_SAMPLING_PARAMETERS": f'{{"piece_delay_ms": {PIECE_DELAY_MS}, "piece_granularity": "word"}}',
    }
    with extra_service(running_stack, "generator", "generator-slow", generator_env) as generator:
        env = gateway_env(running_stack, generator.address)
        with extra_service(running_stack, "gateway", "gateway-slow", env) as slow_gateway:
            yield slow_gateway, generator


def _stream(address: str, key: str) -> tuple[grpc.Channel, object]:
    channel = grpc.insecure_channel(address)
    stub = gateway_pb2_grpc.GatewayServiceStub(channel)
    request = gateway_pb2.AskStreamRequest(question=QUESTION, bypass_cache=True)
    return channel, stub.AskStream(request, metadata=[("x-api-key", key)], timeout=60)


def test_pieces_arrive_as_produced_and_ttft_is_recorded(running_stack: RunningStack, slow, jaeger) -> None:
    slow_gateway, _ = slow
    channel, call = _stream(slow_gateway.address, running_stack.api_key)
    started = time.monotonic()
    arrivals: list[tuple[float, gateway_pb2.AskStreamResponse]] = []
    with channel:
        for event in call:  # type: ignore[attr-defined]
            arrivals.append((time.monotonic() - started, event))
    events = [event for _, event in arrivals]
    assert events[-1].HasField("complete") and all(e.HasField("piece") for e in events[:-1])
    pieces = len(events) - 1
    assert pieces >= 5
    first_piece_at, final_at = arrivals[0][0], arrivals[-1][0]
    # The pieces were streamed while generating, not buffered: the first came long before the end.
    assert final_at - first_piece_at >= (pieces - 2) * PIECE_DELAY_MS / 1000 * 0.8
    final = events[-1].complete
    assert "".join(e.piece.text for e in events[:-1]).strip() == final.answer
    assert DOC in {c.document_id for c in final.citations}
    citation = next(c for c in final.citations if c.document_id == DOC)
    assert citation.chunk_id and citation.score > 0 and citation.quote
    assert final.usage.total_tokens > 0 and final.quota.tokens_this_minute > 0

    metrics = slow_gateway.metrics()
    ttft_sum = metric_value(metrics, "ragmesh_gateway_time_to_first_piece_seconds_sum")
    total_sum = metric_value(metrics, "ragmesh_gateway_answer_seconds_sum")
    assert metric_value(metrics, "ragmesh_gateway_time_to_first_piece_seconds_count", cache="bypassed") >= 1
    assert 0 < ttft_sum < total_sum
    found = jaeger.wait_for_trace(final.trace_id, lambda t: bool(t.find("gateway", "AskStream")))
    [root] = found.find("gateway", "AskStream")
    assert float(root.tags["ragmesh.ttft_ms"]) < float(root.tags["ragmesh.answer_ms"])


def test_cancelling_the_call_stops_the_generation_in_triton(running_stack: RunningStack, slow) -> None:
    slow_gateway, generator = slow
    triton_log = running_stack.settings.run_dir / "logs" / "triton.log"
    cancelled_before = triton_log.read_text().count("[generator] request cancelled by the client")
    channel, call = _stream(slow_gateway.address, running_stack.api_key)
    with channel:
        first = next(call)  # type: ignore[call-overload]
        assert first.HasField("piece")
        call.cancel()  # type: ignore[attr-defined]

    def cancellation_seen() -> list[str]:
        lines = [line for line in triton_log.read_text().splitlines() if "cancelled by the client" in line]
        cancelled = metric_value(generator.metrics(), "ragmesh_generator_generations_total", outcome="cancelled")
        return lines if len(lines) > cancelled_before and cancelled >= 1 else []

    lines = eventually(cancellation_seen, "the cancellation in Triton's log and the generator's metric", timeout=15)
    # "... after i/n pieces": Triton stopped well before the end of the answer.
    done, total = lines[-1].rsplit("after ", 1)[1].split(" ")[0].split("/")
    assert int(done) < int(total) - 3
    assert metric_value(generator.metrics(), "ragmesh_generator_generations_total", outcome="completed") >= 1
    # Nothing keeps running for the cancelled request: a whole answer generated afterwards (the
    # positive marker: the generator's completed count moves) finds no failure logged meanwhile.
    count = len(triton_log.read_text().splitlines())
    completed = metric_value(generator.metrics(), "ragmesh_generator_generations_total", outcome="completed")
    channel, call = _stream(slow_gateway.address, running_stack.api_key)
    with channel:
        assert list(call)[-1].HasField("complete")  # type: ignore[call-overload]
    eventually(
        lambda: (
            metric_value(generator.metrics(), "ragmesh_generator_generations_total", outcome="completed") > completed
        ),
        "a later generation completed",
    )
    assert not any("generation failed" in line for line in triton_log.read_text().splitlines()[count:])
