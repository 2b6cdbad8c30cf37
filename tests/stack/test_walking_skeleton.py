"""One question and one document flow end to end on the real stack, traced in Jaeger."""

from __future__ import annotations

import uuid
from pydoc_data.topics import topics

import grpc
import pytest

from ragmesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ragmesh_devstack.jaeger import JaegerQuery, Trace
from tests.stack.test_query_helpers import ask_until_cited

# Three documents from CPython's own reference text (pydoc_data), none written here.
DOCUMENTS = {"python-pass": "pass", "python-break": "break", "python-global": "global"}
QUESTION = "What happens when a pass statement is executed?"
QUERY_SERVICES = {"gateway", "embedder", "retriever", "generator"}


def _ask(gateway: gateway_pb2_grpc.GatewayServiceStub, auth: list[tuple[str, str]], question: str):
    return gateway.Ask(gateway_pb2.AskRequest(question=question), metadata=auth, timeout=30)


@pytest.fixture(scope="module")
def submitted(gateway: gateway_pb2_grpc.GatewayServiceStub, auth: list[tuple[str, str]]) -> dict[str, str]:
    """Submits the three documents; returns document id -> trace id of its submission."""
    traces: dict[str, str] = {}
    for document_id, topic in DOCUMENTS.items():
        reply = gateway.SubmitDocument(
            gateway_pb2.SubmitDocumentRequest(
                document_id=document_id, title=f"The {topic} statement", text=topics[topic]
            ),
            metadata=auth,
            timeout=15,
        )
        assert reply.document_id == document_id
        assert reply.version > 0
        assert len(reply.trace_id) == 32
        traces[document_id] = reply.trace_id
    return traces


@pytest.fixture(scope="module")
def answered(gateway, auth, submitted) -> gateway_pb2.AskResponse:
    """Asks until the pass document is searchable (indexing is asynchronous, through Kafka)."""
    return ask_until_cited(gateway, auth[0][1], QUESTION, "python-pass")


def test_answer_states_the_fact_and_cites_its_document(answered: gateway_pb2.AskResponse) -> None:
    assert "nothing happens" in answered.answer
    cited = [citation.document_id for citation in answered.citations]
    assert "python-pass" in cited
    pass_citation = next(c for c in answered.citations if c.document_id == "python-pass")
    # The cited span is verbatim source text (chunks keep the words, with whitespace folded).
    assert pass_citation.quote
    assert pass_citation.quote in " ".join(topics["pass"].split())
    assert f"[{pass_citation.label}]" in answered.answer
    assert answered.usage.prompt_tokens > 0 and answered.usage.completion_tokens > 0


def test_streamed_answer_arrives_in_pieces_then_a_final_message(gateway, auth, answered) -> None:
    # Past the caches: `answered` asked the same question, and a cached answer is sent as one piece
    # (once every submitted document has settled it is stored; when depends on indexing speed).
    request = gateway_pb2.AskStreamRequest(question=QUESTION, bypass_cache=True)
    events = list(gateway.AskStream(request, metadata=auth, timeout=30))
    pieces = [event.piece.text for event in events if event.HasField("piece")]
    assert len(pieces) > 1
    assert events[-1].HasField("complete")
    assert all(event.HasField("piece") for event in events[:-1])
    final = events[-1].complete
    assert "".join(pieces).strip() == final.answer
    assert any(citation.document_id == "python-pass" for citation in final.citations)
    assert len(final.trace_id) == 32


def test_question_trace_spans_all_query_services(answered, jaeger: JaegerQuery) -> None:
    # The root (the gateway's server span) ends last and may come in a later export batch than
    # the spans below it: wait for it too.
    found = jaeger.wait_for_trace(
        answered.trace_id, lambda t: QUERY_SERVICES <= t.services and any(not s.parent_id for s in t.spans)
    )
    assert QUERY_SERVICES <= found.services
    [root] = [span for span in found.spans if not span.parent_id]
    assert root.service == "gateway"
    below_root = {span.service for span in found.descendants(root)}
    assert {"embedder", "retriever", "generator"} <= below_root


def _ingestion_complete(trace: Trace) -> bool:
    return bool(trace.find("indexer", "process")) and bool(trace.find("indexer", "Upsert"))


def test_ingestion_trace_connects_publish_to_indexing(submitted, answered, jaeger: JaegerQuery) -> None:
    found = jaeger.wait_for_trace(submitted["python-pass"], _ingestion_complete)
    [publish] = found.find("gateway", "ragmesh.documents.v1 publish")
    process_spans = found.find("indexer", "ragmesh.documents.v1 process")
    assert process_spans, "the indexer's processing is not in the submission's trace"
    process = process_spans[-1]
    assert process.parent_id == publish.span_id
    under_process = {span.operation for span in found.descendants(process)}
    assert any("EmbedderService/Embed" in name for name in under_process)
    assert any("RetrieverService/Upsert" in name for name in under_process)


def test_missing_api_key_is_unauthenticated(gateway) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        gateway.Ask(gateway_pb2.AskRequest(question=QUESTION), timeout=10)
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "x-api-key" in (raised.value.details() or "")


def test_wrong_api_key_is_unauthenticated(gateway) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        gateway.SubmitDocument(
            gateway_pb2.SubmitDocumentRequest(document_id="x", text="y"),
            metadata=[("x-api-key", f"rmk_{uuid.uuid4().hex}")],
            timeout=10,
        )
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_empty_question_is_invalid_argument(gateway, auth) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        gateway.Ask(gateway_pb2.AskRequest(question="   "), metadata=auth, timeout=10)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "question is empty" in (raised.value.details() or "")
