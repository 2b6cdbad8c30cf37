from __future__ import annotations

import grpc

from ragmesh.retriever.v1 import retriever_pb2, retriever_pb2_grpc
from ragmesh_kit.domain import ChunkWithVector
from ragmesh_kit.proto_convert import chunk_from_proto, filters_from_proto, scored_chunk_to_proto
from ragmesh_kit.telemetry import current_trace_id
from services.retriever.app.chunk_index import ChunkIndex


class RetrieverServicer(retriever_pb2_grpc.RetrieverServiceServicer):
    def __init__(self, index: ChunkIndex) -> None:
        self._index = index

    async def Search(  # noqa: N802 - gRPC method name
        self, request: retriever_pb2.SearchRequest, context: grpc.aio.ServicerContext
    ) -> retriever_pb2.SearchResponse:
        found = await self._index.search(
            request.tenant_id,
            list(request.vector),
            request.top_k,
            filters_from_proto(request.filters),
            request.score_threshold,
        )
        return retriever_pb2.SearchResponse(
            chunks=[scored_chunk_to_proto(item) for item in found], trace_id=current_trace_id()
        )

    async def Upsert(  # noqa: N802
        self, request: retriever_pb2.UpsertRequest, context: grpc.aio.ServicerContext
    ) -> retriever_pb2.UpsertResponse:
        records = [
            ChunkWithVector(chunk=chunk_from_proto(record.chunk), vector=list(record.vector))
            for record in request.records
        ]
        count = await self._index.upsert(request.tenant_id, records)
        return retriever_pb2.UpsertResponse(upserted=count, trace_id=current_trace_id())

    async def DeleteDocument(  # noqa: N802
        self, request: retriever_pb2.DeleteDocumentRequest, context: grpc.aio.ServicerContext
    ) -> retriever_pb2.DeleteDocumentResponse:
        await self._index.delete_document(request.tenant_id, request.document_id, request.below_version)
        return retriever_pb2.DeleteDocumentResponse(trace_id=current_trace_id())
