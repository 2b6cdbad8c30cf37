"""Faults survived on the real stack: Triton killed under questions (fast UNAVAILABLE, breaker,
health, recovery by itself), overload refused at once, deadlines honoured with a slow generator."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pydoc_data.topics import topics

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ragmesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ragmesh_devstack import stack
from ragmesh_devstack.processes import ProcessTable
from ragmesh_kit.server import LIVENESS_SERVICE
from tests.eventually import eventually
from tests.stack.test_query_helpers import ExtraService, ask_until_cited, extra_service, gateway_env, submit

QUESTION = "What does the del statement do to a name?"
CANCELLED_IN_TRITON = "[generator] request cancelled by the client"


@pytest.fixture(scope="module")
def indexed(gateway, running_stack) -> None:
    submit(gateway, running_stack.api_key, "fault-del", "del", topics["del"])
    ask_until_cited(gateway, running_stack.api_key, QUESTION, "fault-del")


def _serving(address: str, service: str = "") -> bool:
    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service), timeout=2)
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def test_triton_killed_gives_fast_unavailable_then_recovers_by_itself(gateway, auth, running_stack, indexed) -> None:
    table = ProcessTable(running_stack.settings.run_dir)
    pid = table.pid("triton")
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)
    try:
        durations: list[float] = []
        messages: list[str] = []
        for _ in range(12):
            started = time.monotonic()
            with pytest.raises(grpc.RpcError) as raised:
                gateway.Ask(gateway_pb2.AskRequest(question=QUESTION, bypass_cache=True), metadata=auth, timeout=10)
            durations.append(time.monotonic() - started)
            assert raised.value.code() == grpc.StatusCode.UNAVAILABLE, raised.value.details()
            messages.append(raised.value.details() or "")
        assert max(durations) < 10, "a caller waited past its deadline"
        assert any("circuit open" in message for message in messages), messages
        assert min(durations[-4:]) < 0.5, f"failures are not fast once the breaker is open: {durations}"
        eventually(
            lambda: not _serving(running_stack.address("embedder")),
            "the embedder's health NOT_SERVING without Triton",
            timeout=15,
            interval=0.3,
        )
        # Not ready, but alive: a liveness probe must not restart the embedder for Triton's outage.
        assert _serving(running_stack.address("embedder"), LIVENESS_SERVICE)
    finally:
        table.pid("triton")  # reap
        stack.up(running_stack.settings)  # starts Triton again; the services keep running

    def answered() -> gateway_pb2.AskResponse:
        try:
            reply: gateway_pb2.AskResponse = gateway.Ask(
                gateway_pb2.AskRequest(question=QUESTION, bypass_cache=True), metadata=auth, timeout=10
            )
        except grpc.RpcError as error:
            raise AssertionError(f"no recovery after Triton came back: {error.details()}") from error
        return reply

    reply = eventually(answered, "an answer after Triton came back", timeout=90, interval=0.5)
    assert "fault-del" in [c.document_id for c in reply.citations]
    assert _serving(running_stack.address("embedder"))


def test_overload_is_refused_quickly_and_admitted_calls_stay_bounded(running_stack, indexed) -> None:
    env = gateway_env(running_stack, GATEWAY_MAX_CONCURRENT_RPCS="4")
    with extra_service(running_stack, "gateway", "gateway-small", env) as small:
        metadata = (("x-api-key", running_stack.api_key),)

        async def one(stub: gateway_pb2_grpc.GatewayServiceStub) -> tuple[str, float]:
            started = time.monotonic()
            try:
                await stub.Ask(
                    gateway_pb2.AskRequest(question=QUESTION, bypass_cache=True), metadata=metadata, timeout=20
                )
                return "OK", time.monotonic() - started
            except grpc.aio.AioRpcError as error:
                return error.code().name, time.monotonic() - started

        async def burst() -> list[tuple[str, float]]:
            async with grpc.aio.insecure_channel(small.address) as channel:
                stub = gateway_pb2_grpc.GatewayServiceStub(channel)
                return await asyncio.gather(*(one(stub) for _ in range(40)))

        results = asyncio.run(burst())
    codes = [code for code, _ in results]
    assert "OK" in codes and "RESOURCE_EXHAUSTED" in codes, codes
    assert set(codes) <= {"OK", "RESOURCE_EXHAUSTED"}, codes
    refused = [seconds for code, seconds in results if code == "RESOURCE_EXHAUSTED"]
    admitted = [seconds for code, seconds in results if code == "OK"]
    assert max(refused) < 1.0, f"refusals were slow: {max(refused):.2f}s"
    assert max(admitted) < 20, "admitted calls were not bounded"


SLOW_PIECES = '{"piece_delay_ms": 300, "piece_granularity": "word"}'


@contextmanager
def _question_past_its_deadline(running_stack, name: str, generator_env: dict[str, str]) -> Iterator[ExtraService]:
    """A question with 1.5 s to a gateway whose generator streams a word every 300 ms: it ends
    DEADLINE_EXCEEDED in time; yields the generator (still running) for the checks below it."""
    with extra_service(running_stack, "generator", f"generator-{name}", generator_env) as generator:
        env = gateway_env(running_stack, generator_address=generator.address)
        with extra_service(running_stack, "gateway", f"gateway-{name}", env) as slow:
            with grpc.insecure_channel(slow.address) as channel:
                stub = gateway_pb2_grpc.GatewayServiceStub(channel)
                started = time.monotonic()
                with pytest.raises(grpc.RpcError) as raised:
                    stub.Ask(
                        gateway_pb2.AskRequest(question=QUESTION, bypass_cache=True),
                        metadata=(("x-api-key", running_stack.api_key),),
                        timeout=1.5,
                    )
                elapsed = time.monotonic() - started
            assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            assert elapsed < 2.5
            yield generator


def test_slow_generation_honours_the_callers_deadline(running_stack, indexed) -> None:
    generator_env = {
        "GENERATOR_TRITON_URL": f"127.0.0.1:{running_stack.settings.triton_grpc_port}",
        # The extractive model on Triton (not in-process): what is checked is the stream into Triton.
        "GENERATOR_EXTRACTIVE_IN_PROCESS": "false",
        "GENERATOR_EXTRA_SAMPLING_PARAMETERS": SLOW_PIECES,
    }
    triton_log = running_stack.settings.run_dir / "logs" / "triton.log"
    cancelled_before = triton_log.read_text().count(CANCELLED_IN_TRITON)
    with _question_past_its_deadline(running_stack, "slower", generator_env) as generator:
        # The deadline travels down: the generator's Triton call carries the question's remaining
        # time, so Triton's request ends with it, not left running.
        eventually(
            lambda: triton_log.read_text().count(CANCELLED_IN_TRITON) > cancelled_before,
            "the generation cancelled inside Triton",
            10,
        )
        assert '"status": "DEADLINE_EXCEEDED"' in generator.log.read_text()


def test_slow_in_process_answer_honours_the_callers_deadline(running_stack, indexed) -> None:
    """The same with the extractive answerer in the generator process (the default): the
    generation stops when the question's deadline passes, instead of running to its end."""
    generator_env = {"GENERATOR_EXTRACTIVE_IN_PROCESS": "true", "GENERATOR_EXTRA_SAMPLING_PARAMETERS": SLOW_PIECES}
    with _question_past_its_deadline(running_stack, "slow-local", generator_env) as generator:
        eventually(
            lambda: "generation cancelled by the caller" in generator.log.read_text(),
            "the in-process generation stopped by the deadline",
            10,
        )
