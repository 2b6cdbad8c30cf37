"""Declared limits (docs/limits.md) through the real stack: request size, document size, embedder
texts per request, text length, retriever top_k and upsert records. Each refusal has its status
and names the limit; nothing refused is written."""

from __future__ import annotations

import grpc
import pytest

from ragmesh.embedder.v1 import embedder_pb2, embedder_pb2_grpc
from ragmesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ragmesh.retriever.v1 import retriever_pb2, retriever_pb2_grpc
from tests.stack import test_bad_input_helpers as h
from tests.stack.conftest import RunningStack
from tests.stack.test_query_helpers import rpc_error

BIG = [("grpc.max_send_message_length", 64 * 1024 * 1024)]
DEFAULT_MAX_REQUEST_BYTES = 8 * 1024 * 1024


def _channel(stack: RunningStack, name: str) -> grpc.Channel:
    return grpc.insecure_channel(stack.address(name), options=BIG)


def test_documents_over_the_size_limits_are_refused(running_stack: RunningStack) -> None:
    auth = [("x-api-key", running_stack.api_key)]
    with _channel(running_stack, "gateway") as channel:
        stub = gateway_pb2_grpc.GatewayServiceStub(channel)

        def send(size: int) -> grpc.RpcError:
            request = gateway_pb2.SubmitDocumentRequest(document_id="too-big", text="a" * size)
            return rpc_error(lambda: stub.SubmitDocument(request, metadata=auth, timeout=30))

        over_document = send(2 * 1024 * 1024 + 1)  # GATEWAY_MAX_DOCUMENT_BYTES
        assert over_document.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "the limit is 2097152" in (over_document.details() or "")
        over_request = send(DEFAULT_MAX_REQUEST_BYTES + 1)  # GATEWAY_MAX_REQUEST_BYTES: gRPC refuses it
        assert over_request.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        status = rpc_error(
            lambda: stub.GetDocumentStatus(
                gateway_pb2.GetDocumentStatusRequest(document_id="too-big"), metadata=auth, timeout=10
            )
        )
        assert status.code() == grpc.StatusCode.NOT_FOUND, "a refused document was accepted"


def test_embedder_limits(running_stack: RunningStack) -> None:
    with _channel(running_stack, "embedder") as channel:
        stub = embedder_pb2_grpc.EmbedderServiceStub(channel)
        at_limit = stub.Embed(embedder_pb2.EmbedRequest(texts=["short text"] * 512), timeout=120)
        assert len(at_limit.vectors) == 512
        for texts, limit in ((["short text"] * 513, "at most 512"), (["y" * 32_001], "the limit is 32000")):
            error = rpc_error(lambda texts=texts: stub.Embed(embedder_pb2.EmbedRequest(texts=texts), timeout=30))
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and limit in (error.details() or "")
        huge = embedder_pb2.EmbedRequest(texts=["z" * 30_000] * 300)  # 9 MB: over EMBEDDER_MAX_REQUEST_BYTES
        assert rpc_error(lambda: stub.Embed(huge, timeout=30)).code() == grpc.StatusCode.RESOURCE_EXHAUSTED


@pytest.mark.parametrize("records", [1025, 6000])
def test_retriever_upsert_limits_write_nothing(running_stack: RunningStack, records: int) -> None:
    tenant = f"limits-{records}"
    vector = [0.05] * h.DIMENSION
    request = retriever_pb2.UpsertRequest(
        tenant_id=tenant,
        records=[
            retriever_pb2.ChunkRecord(
                chunk={"chunk_id": f"c{i}", "document_id": "d", "version": 1, "text": "t"},
                vector=vector,
            )
            for i in range(records)
        ],
    )
    with _channel(running_stack, "retriever") as channel:
        stub = retriever_pb2_grpc.RetrieverServiceStub(channel)
        error = rpc_error(lambda: stub.Upsert(request, timeout=60))
        if records == 1025:  # RETRIEVER_MAX_UPSERT_RECORDS
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "at most 1024" in (error.details() or "")
        else:  # 6,000 x 384 floats: over RETRIEVER_MAX_REQUEST_BYTES
            assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        top_k = rpc_error(
            lambda: stub.Search(retriever_pb2.SearchRequest(tenant_id=tenant, vector=vector, top_k=101), timeout=10)
        )
        assert top_k.code() == grpc.StatusCode.INVALID_ARGUMENT and "1 to 100" in (top_k.details() or "")
        assert stub.CountChunks(retriever_pb2.CountChunksRequest(tenant_id=tenant), timeout=10).count == 0
