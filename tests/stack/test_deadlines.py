"""Every hop takes the caller's remaining deadline as its own: a question sent with 1 s left never
waits the embedder's configured 10 s on an unresponsive Triton."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import grpc
import pytest

from ragmesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ragmesh_devstack import components
from tests.eventually import eventually
from tests.stack.test_query_helpers import extra_service, gateway_env


@pytest.fixture
def unresponsive_peer() -> Iterator[int]:
    """A port that accepts connections and never answers (a hung server)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


def _embed_calls(log: str) -> list[dict[str, object]]:
    lines = (json.loads(line) for line in log.splitlines() if line.startswith("{"))
    return [line for line in lines if line.get("msg") == "rpc" and str(line.get("method", "")).endswith("/Embed")]


def test_the_callers_deadline_reaches_the_embedders_triton_call(running_stack, unresponsive_peer) -> None:
    embedder_env = {"EMBEDDER_TRITON_URL": f"127.0.0.1:{unresponsive_peer}", "EMBEDDER_TRITON_TIMEOUT_SECONDS": "10"}
    with extra_service(running_stack, "embedder", "embedder-hung-triton", embedder_env, components.grpc_answers) as emb:
        # This embedder reports NOT_SERVING (its Triton never answers), so the gateway is never
        # ready either, and with client-side health checking it would refuse at once without
        # calling it. The point here is what a call that reaches it does with the caller's
        # deadline: the gateway calls it anyway, and is started once it answers at all.
        env = gateway_env(running_stack, GATEWAY_EMBEDDER_ADDR=emb.address, GATEWAY_CLIENT_HEALTH_CHECKS="false")
        with extra_service(running_stack, "gateway", "gateway-deadline", env, components.grpc_answers) as gateway:
            calls_before = len(_embed_calls(emb.log.read_text()))
            with grpc.insecure_channel(gateway.address) as channel:
                stub = gateway_pb2_grpc.GatewayServiceStub(channel)
                with pytest.raises(grpc.RpcError) as raised:
                    stub.Ask(
                        gateway_pb2.AskRequest(question="What does the pass statement do?", bypass_cache=True),
                        metadata=(("x-api-key", running_stack.api_key),),
                        timeout=1.0,
                    )
            assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            # The embedder's Triton call ran out of the question's time (its own 10 s never came
            # into play) and the embedder answered DEADLINE_EXCEEDED itself, before the caller gave
            # up and cancelled it (which would read CANCELLED).
            calls = eventually(
                lambda: _embed_calls(emb.log.read_text())[calls_before:], "the embedder's access log line", 15
            )
            assert calls[0]["code"] == "DEADLINE_EXCEEDED", calls[0]
            assert float(str(calls[0]["duration_ms"])) < 1000, calls[0]
