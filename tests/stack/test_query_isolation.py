"""Tenants, validation and document status through the public gateway."""

from __future__ import annotations

import uuid

import grpc
import pytest

from ragmesh.common.v1 import types_pb2
from ragmesh.gateway.v1 import gateway_pb2
from tests.stack.conftest import RunningStack
from tests.stack.test_query_helpers import ask, ask_until_cited, rpc_error, submit

PRIVATE_DOC = f"iso-{uuid.uuid4().hex[:8]}"
PRIVATE_TEXT = (
    "The zorblax reactor of the Quendal station runs on forty-two quantum marbles. "
    "Its cooling loop is filled with lavender-scented helium."
)
PRIVATE_QUESTION = "What does the zorblax reactor run on?"


@pytest.fixture(scope="module")
def private_indexed(running_stack: RunningStack, gateway) -> RunningStack:
    submit(gateway, running_stack.api_key, PRIVATE_DOC, "Quendal station", PRIVATE_TEXT)
    reply = ask_until_cited(gateway, running_stack.api_key, PRIVATE_QUESTION, PRIVATE_DOC)
    assert "quantum marbles" in reply.answer, "tenant default cannot see its own document"
    return running_stack


def test_tenant_b_never_sees_tenant_a_chunks(private_indexed: RunningStack, gateway) -> None:
    for options in ({"bypass_cache": True}, {}, {"min_score": 0.01, "top_k": 50}):
        reply = ask(gateway, private_indexed.api_key_tenant_b, PRIVATE_QUESTION, **options)
        assert PRIVATE_DOC not in {c.document_id for c in reply.citations}
        assert "marbles" not in reply.answer and "lavender" not in reply.answer


def test_document_status_is_per_tenant(private_indexed: RunningStack, gateway) -> None:
    def status(key: str, document_id: str) -> gateway_pb2.GetDocumentStatusResponse:
        request = gateway_pb2.GetDocumentStatusRequest(document_id=document_id)
        reply: gateway_pb2.GetDocumentStatusResponse = gateway.GetDocumentStatus(
            request, metadata=[("x-api-key", key)], timeout=10
        )
        return reply

    mine = status(private_indexed.api_key, PRIVATE_DOC)
    assert mine.status.document_id == PRIVATE_DOC
    assert mine.status.state in (types_pb2.DOCUMENT_STATE_ACCEPTED, types_pb2.DOCUMENT_STATE_INDEXED)
    assert mine.status.version > 0 and len(mine.trace_id) == 32
    for key, document_id in ((private_indexed.api_key_tenant_b, PRIVATE_DOC), (private_indexed.api_key, "never-sent")):
        error = rpc_error(lambda key=key, document_id=document_id: status(key, document_id))
        assert error.code() == grpc.StatusCode.NOT_FOUND


def test_over_long_questions_are_refused_with_the_limit(running_stack: RunningStack, gateway) -> None:
    key = running_stack.api_key
    too_many_tokens = " ".join(["quantum"] * 400)  # 2,800 characters: passes the gateway, not the budget
    error = rpc_error(lambda: ask(gateway, key, too_many_tokens))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "the limit is 256" in (error.details() or "")
    error = rpc_error(lambda: ask(gateway, key, "x" * 4001))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "the limit is 4000" in (error.details() or "")
    error = rpc_error(lambda: ask(gateway, key, "What?", top_k=51))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "the limit is 50" in (error.details() or "")
