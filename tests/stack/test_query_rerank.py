"""Ask with the reranking stage on (GATEWAY_RERANK), on a second gateway beside the session's stack:
the answer is cited from the right document and the Triton model "rerank" served the request."""

from __future__ import annotations

import secrets
import urllib.request

import grpc

from ragmesh.gateway.v1 import gateway_pb2_grpc
from tests.stack.conftest import RunningStack
from tests.stack.test_query_helpers import ask_until_cited, extra_service, gateway_env, metric_value, submit

FACT = "The zephyr-kiln furnace fires porcelain at exactly 1284 degrees Celsius."
ANSWERING = f"Kiln notes\n\nThe workshop has several machines. {FACT} It is cleaned every Friday."
OTHER = "Garden notes\n\nThe workshop garden grows tomatoes and basil. Watering happens every morning."


def _rerank_successes(stack: RunningStack) -> float:
    url = f"http://127.0.0.1:{stack.settings.triton_metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as reply:
        text = reply.read().decode()
    return metric_value(text, "nv_inference_request_success", model="rerank")


def test_ask_with_reranking_cites_the_answering_document(running_stack: RunningStack) -> None:
    key = running_stack.api_key
    suffix = secrets.token_hex(4)
    env = gateway_env(
        running_stack,
        GATEWAY_RERANK="true",
        GATEWAY_TRITON_URL=f"127.0.0.1:{running_stack.settings.triton_grpc_port}",
    )
    with extra_service(running_stack, "gateway", "gateway-rerank", env) as service:
        with grpc.insecure_channel(service.address) as channel:
            stub = gateway_pb2_grpc.GatewayServiceStub(channel)
            submit(stub, key, f"garden-{suffix}", "Garden notes", OTHER)
            submit(stub, key, f"kiln-{suffix}", "Kiln notes", ANSWERING)
            before = _rerank_successes(running_stack)
            reply = ask_until_cited(
                stub, key, "At what temperature does the zephyr-kiln furnace fire porcelain?", f"kiln-{suffix}"
            )
            assert "1284 degrees" in reply.answer, reply.answer
            assert _rerank_successes(running_stack) > before
