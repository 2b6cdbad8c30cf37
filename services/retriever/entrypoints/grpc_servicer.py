"""gRPC <-> domain only: each method converts the request, calls a use case, converts the reply."""

from __future__ import annotations

from typing import Any

import grpc

from ragmesh.retriever.v1 import retriever_pb2, retriever_pb2_grpc
from ragmesh_kit.domain import ChunkWithVector
from ragmesh_kit.errors import InvalidArgument
from ragmesh_kit.proto_convert import (
    chunk_from_proto,
    document_status_from_proto,
    document_status_to_proto,
    filters_from_proto,
    retrieval_mode_from_proto,
    scored_chunk_to_proto,
)
from ragmesh_kit.telemetry import current_trace_id
from services.retriever.app.chunk_index import ChunkIndex
from services.retriever.app.document_states import DocumentStates


class RetrieverServicer(retriever_pb2_grpc.RetrieverServiceServicer):
    def __init__(self, index: ChunkIndex, states: DocumentStates) -> None:
        self._index = index
        self._states = states

    async def Search(  # noqa: N802 - gRPC method name
        self, request: retriever_pb2.SearchRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> retriever_pb2.SearchResponse:
        found = await self._index.search(
            request.tenant_id,
            list(request.vector),
            request.top_k,
            filters_from_proto(request.filters),
            request.score_threshold,
            request.max_chunks_per_document,
            request.query_text,
            retrieval_mode_from_proto(request.mode),
        )
        return retriever_pb2.SearchResponse(
            chunks=[scored_chunk_to_proto(item) for item in found], trace_id=current_trace_id()
        )

    async def Upsert(  # noqa: N802
        self, request: retriever_pb2.UpsertRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> retriever_pb2.UpsertResponse:
        records = [
            ChunkWithVector(chunk=chunk_from_proto(record.chunk), vector=list(record.vector))
            for record in request.records
        ]
        count = await self._index.upsert(request.tenant_id, records)
        return retriever_pb2.UpsertResponse(upserted=count, trace_id=current_trace_id())

    async def DeleteDocument(  # noqa: N802
        self, request: retriever_pb2.DeleteDocumentRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> retriever_pb2.DeleteDocumentResponse:
        await self._index.delete_document(request.tenant_id, request.document_id, request.below_version)
        return retriever_pb2.DeleteDocumentResponse(trace_id=current_trace_id())

    async def GetDocumentState(  # noqa: N802
        self, request: retriever_pb2.GetDocumentStateRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> retriever_pb2.GetDocumentStateResponse:
        status = await self._states.get(request.tenant_id, request.document_id)
        reply = retriever_pb2.GetDocumentStateResponse(trace_id=current_trace_id())
        if status is not None:
            reply.status.CopyFrom(document_status_to_proto(status))
        return reply

    async def RecordDocumentState(  # noqa: N802
        self, request: retriever_pb2.RecordDocumentStateRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> retriever_pb2.RecordDocumentStateResponse:
        if not request.HasField("status"):
            raise InvalidArgument("status is missing")
        kept = await self._states.record(request.tenant_id, document_status_from_proto(request.status))
        return retriever_pb2.RecordDocumentStateResponse(
            status=document_status_to_proto(kept), trace_id=current_trace_id()
        )

    async def CountChunks(  # noqa: N802
        self, request: retriever_pb2.CountChunksRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> retriever_pb2.CountChunksResponse:
        count = await self._index.count(request.tenant_id, request.document_id)
        return retriever_pb2.CountChunksResponse(count=count, trace_id=current_trace_id())
