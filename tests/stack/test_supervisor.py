"""The local stack brings a dead or hung part back by itself: the supervisor that `make up` starts
restarts Triton when its gRPC port stops answering, even while the process is still there (the
way tritonserver 2.51 failed under traced load), and `status` says so meanwhile."""

from __future__ import annotations

import os
import signal
from pydoc_data.topics import topics

import grpc

from ragmesh.gateway.v1 import gateway_pb2
from ragmesh_devstack import components, stack
from ragmesh_devstack.processes import ProcessTable
from tests.eventually import eventually
from tests.stack.test_query_helpers import ask_until_cited, submit

QUESTION = "What does the nonlocal statement cause the listed identifiers to refer to?"


def _ask(gateway, auth) -> gateway_pb2.AskResponse | None:
    try:
        reply: gateway_pb2.AskResponse = gateway.Ask(
            gateway_pb2.AskRequest(question=QUESTION, bypass_cache=True), metadata=auth, timeout=10
        )
    except grpc.RpcError:
        return None
    return reply


def _submitted(gateway, key: str) -> bool:
    try:
        submit(gateway, key, "supervised-nonlocal", "nonlocal", topics["nonlocal"])
    except grpc.RpcError:
        return False  # a part an earlier test restarted may not be reachable again yet
    return True


def test_a_hung_triton_is_reported_and_restarted(gateway, auth, running_stack) -> None:
    eventually(lambda: _submitted(gateway, running_stack.api_key), "the document submitted", 30)
    ask_until_cited(gateway, running_stack.api_key, QUESTION, "supervised-nonlocal")
    settings = running_stack.settings.model_copy(
        update={"supervise": True, "supervise_interval_seconds": 1.0, "supervise_grace_seconds": 15.0}
    )
    table = ProcessTable(settings.run_dir)
    log = table.log_path("supervisor")
    log.unlink(missing_ok=True)
    table.start(components.supervisor(settings).spec)
    hung = table.pid("triton")
    assert hung is not None
    try:
        eventually(lambda: log.exists() and "watching" in log.read_text(), "the supervisor starting", 30)
        os.kill(hung, signal.SIGSTOP)  # the process stays in the table; its ports answer nothing
        eventually(lambda: "NOT READY" in stack.status(settings)["triton"], "status reporting Triton not ready", 10)
        eventually(lambda: '"component": "triton"' in log.read_text(), "the supervisor restarting Triton", 40)
        assert '"reason": "not ready for' in log.read_text()
        eventually(lambda: table.pid("triton") not in (None, hung), "a new Triton process", 30)
        eventually(lambda: components.triton_ready(settings.triton_grpc_port), "the new Triton ready", 90)
        reply = eventually(lambda: _ask(gateway, auth), "an answer after the restart", 60)
        assert "supervised-nonlocal" in [citation.document_id for citation in reply.citations]
        assert log.read_text().count('"event": "restarting"') == 1, "restarted more than once"
    finally:
        table.stop("supervisor")
        try:
            os.kill(hung, signal.SIGCONT)
            os.killpg(hung, signal.SIGKILL)
        except ProcessLookupError:
            pass
        stack.up(running_stack.settings)  # whatever the test left down
