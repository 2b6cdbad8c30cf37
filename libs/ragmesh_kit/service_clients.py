"""Clients of the internal services (embedder, retriever, generator), shared by every service
that calls them; each call carries its deadline and failures become ragmesh errors."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing

import grpc

from ragmesh.embedder.v1 import embedder_pb2, embedder_pb2_grpc
from ragmesh.generator.v1 import generator_pb2, generator_pb2_grpc
from ragmesh.retriever.v1 import retriever_pb2, retriever_pb2_grpc
from ragmesh_kit.deadlines import timeout_for
from ragmesh_kit.domain import (
    ChunkWithVector,
    DocumentStatus,
    GeneratedAnswer,
    GeneratedPiece,
    MetadataFilter,
    RetrievalMode,
    ScoredChunk,
)
from ragmesh_kit.errors import from_rpc_error
from ragmesh_kit.float_fields import merge_floats
from ragmesh_kit.proto_convert import (
    chunk_to_proto,
    citation_from_proto,
    document_status_from_proto,
    document_status_to_proto,
    filters_to_proto,
    grounding_from_proto,
    retrieval_mode_to_proto,
    scored_chunk_from_proto,
    scored_chunk_to_proto,
    usage_from_proto,
)
from ragmesh_kit.telemetry import client_span


class EmbedderClient:
    def __init__(self, channel: grpc.aio.Channel, timeout_seconds: float) -> None:
        self._stub = embedder_pb2_grpc.EmbedderServiceStub(channel)
        self._timeout = timeout_seconds

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        try:
            with client_span("/ragmesh.embedder.v1.EmbedderService/Embed") as metadata:
                reply = await self._stub.Embed(
                    embedder_pb2.EmbedRequest(texts=texts), timeout=timeout_for(self._timeout), metadata=metadata
                )
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error("embedder", error) from error
        return [list(vector.values) for vector in reply.vectors]


class RetrieverClient:
    def __init__(self, channel: grpc.aio.Channel, timeout_seconds: float) -> None:
        self._stub = retriever_pb2_grpc.RetrieverServiceStub(channel)
        self._timeout = timeout_seconds

    async def search(
        self,
        tenant_id: str,
        vector: Sequence[float],
        top_k: int,
        filters: Sequence[MetadataFilter],
        score_threshold: float = 0.0,
        max_chunks_per_document: int = 0,
        query_text: str = "",
        mode: RetrievalMode | None = None,
    ) -> list[ScoredChunk]:
        """``query_text`` (the text ``vector`` embeds) lets the retriever search hybrid; ``mode`` None
        leaves the choice to the retriever's default."""
        request = retriever_pb2.SearchRequest(
            tenant_id=tenant_id,
            top_k=top_k,
            filters=filters_to_proto(filters),
            score_threshold=score_threshold,
            max_chunks_per_document=max_chunks_per_document,
            query_text=query_text,
            mode=retrieval_mode_to_proto(mode),
        )
        merge_floats(request, "vector", vector)
        try:
            with client_span("/ragmesh.retriever.v1.RetrieverService/Search") as metadata:
                reply = await self._stub.Search(request, timeout=timeout_for(self._timeout), metadata=metadata)
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error("retriever", error) from error
        return [scored_chunk_from_proto(item) for item in reply.chunks]

    async def upsert(self, tenant_id: str, records: Sequence[ChunkWithVector]) -> int:
        request = retriever_pb2.UpsertRequest(tenant_id=tenant_id)
        for record in records:
            entry = request.records.add(chunk=chunk_to_proto(record.chunk))
            merge_floats(entry, "vector", record.vector)
        try:
            with client_span("/ragmesh.retriever.v1.RetrieverService/Upsert") as metadata:
                reply = await self._stub.Upsert(request, timeout=timeout_for(self._timeout), metadata=metadata)
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error("retriever", error) from error
        return int(reply.upserted)

    async def delete_document(self, tenant_id: str, document_id: str, below_version: int) -> None:
        request = retriever_pb2.DeleteDocumentRequest(
            tenant_id=tenant_id, document_id=document_id, below_version=below_version
        )
        try:
            with client_span("/ragmesh.retriever.v1.RetrieverService/DeleteDocument") as metadata:
                await self._stub.DeleteDocument(request, timeout=timeout_for(self._timeout), metadata=metadata)
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error("retriever", error) from error

    async def get_document_state(self, tenant_id: str, document_id: str) -> DocumentStatus | None:
        request = retriever_pb2.GetDocumentStateRequest(tenant_id=tenant_id, document_id=document_id)
        try:
            with client_span("/ragmesh.retriever.v1.RetrieverService/GetDocumentState") as metadata:
                reply = await self._stub.GetDocumentState(
                    request, timeout=timeout_for(self._timeout), metadata=metadata
                )
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error("retriever", error) from error
        return document_status_from_proto(reply.status) if reply.HasField("status") else None

    async def record_document_state(self, tenant_id: str, status: DocumentStatus) -> DocumentStatus:
        """Records the state unless a newer version is recorded; returns the state kept."""
        request = retriever_pb2.RecordDocumentStateRequest(tenant_id=tenant_id, status=document_status_to_proto(status))
        try:
            with client_span("/ragmesh.retriever.v1.RetrieverService/RecordDocumentState") as metadata:
                reply = await self._stub.RecordDocumentState(
                    request, timeout=timeout_for(self._timeout), metadata=metadata
                )
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error("retriever", error) from error
        return document_status_from_proto(reply.status)

    async def count_chunks(self, tenant_id: str, document_id: str = "") -> int:
        request = retriever_pb2.CountChunksRequest(tenant_id=tenant_id, document_id=document_id)
        try:
            with client_span("/ragmesh.retriever.v1.RetrieverService/CountChunks") as metadata:
                reply = await self._stub.CountChunks(request, timeout=timeout_for(self._timeout), metadata=metadata)
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error("retriever", error) from error
        return int(reply.count)


class GeneratorClient:
    def __init__(self, channel: grpc.aio.Channel, timeout_seconds: float) -> None:
        self._stub = generator_pb2_grpc.GeneratorServiceStub(channel)
        self._timeout = timeout_seconds

    async def generate(
        self, question: str, context: Sequence[ScoredChunk], max_context_tokens: int
    ) -> AsyncIterator[GeneratedPiece | GeneratedAnswer]:
        request = generator_pb2.GenerateRequest(
            question=question,
            context=[scored_chunk_to_proto(item) for item in context],
            max_context_tokens=max_context_tokens,
        )
        with client_span("/ragmesh.generator.v1.GeneratorService/Generate") as metadata:
            # Closed here, not when collected: a caller that stops reading cancels the call at once.
            async with aclosing(self._stream(request, metadata)) as replies:
                async for reply in replies:
                    yield reply

    async def _stream(
        self, request: generator_pb2.GenerateRequest, metadata: tuple[tuple[str, str], ...]
    ) -> AsyncGenerator[GeneratedPiece | GeneratedAnswer, None]:
        call = self._stub.Generate(request, timeout=timeout_for(self._timeout), metadata=metadata)
        try:
            async for reply in call:
                if reply.HasField("delta"):
                    yield GeneratedPiece(reply.delta.text)
                elif reply.HasField("complete"):
                    done = reply.complete
                    yield GeneratedAnswer(
                        answer=done.answer,
                        citations=[citation_from_proto(item) for item in done.citations],
                        usage=usage_from_proto(done.usage),
                        grounding=grounding_from_proto(done.grounding),
                    )
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error("generator", error) from error
        finally:
            # A caller that stops reading (client cancelled) cancels the generation downstream.
            if not call.done():
                call.cancel()
