"""Wires the retriever: gRPC servicer -> ChunkIndex -> Qdrant (embedded engine, or a server when
RETRIEVER_QDRANT_URL is set). Only this process opens the store."""

from __future__ import annotations

from pathlib import Path

import grpc
from opentelemetry.sdk.trace import TracerProvider

from ragmesh.retriever.v1 import retriever_pb2, retriever_pb2_grpc
from ragmesh_kit.metrics import ServiceMetrics
from ragmesh_kit.runner import run_service
from ragmesh_kit.server import GrpcService
from services.retriever.adapters.qdrant_edge_store import QdrantEdgeStore
from services.retriever.adapters.qdrant_server_store import QdrantServerStore
from services.retriever.adapters.traced_store import TracedChunkStore
from services.retriever.app.chunk_index import ChunkIndex, SearchLimits
from services.retriever.app.document_states import DocumentStates
from services.retriever.app.metadata_schema import FieldType, MetadataSchema
from services.retriever.app.ports import ChunkStore
from services.retriever.entrypoints.grpc_servicer import RetrieverServicer
from services.retriever.settings import RetrieverSettings


async def open_store(settings: RetrieverSettings, fields: dict[str, FieldType]) -> ChunkStore:
    if settings.qdrant_url:
        return await QdrantServerStore.connect(
            settings.qdrant_url,
            settings.collection,
            settings.dimension,
            api_key=settings.qdrant_api_key or None,
            timeout=int(settings.qdrant_timeout_seconds),
            hnsw_ef=settings.hnsw_ef,
            metadata_fields=fields,
            rrf_k=settings.rrf_k,
            hybrid_candidates=settings.hybrid_candidates,
        )
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    return await QdrantEdgeStore.open(
        settings.data_dir,
        settings.dimension,
        hnsw_ef=settings.hnsw_ef,
        metadata_fields=fields,
        rrf_k=settings.rrf_k,
        hybrid_candidates=settings.hybrid_candidates,
    )


async def build(settings: RetrieverSettings, provider: TracerProvider) -> GrpcService:
    metrics = ServiceMetrics(settings.service_name)
    fields = settings.metadata_fields
    store = TracedChunkStore(
        await open_store(settings, fields),
        provider.get_tracer("ragmesh.retriever.qdrant"),
        settings.collection,
        f"{settings.collection}_document_states",
    )
    limits = SearchLimits(
        max_top_k=settings.max_top_k,
        default_max_chunks_per_document=settings.default_max_chunks_per_document,
        candidate_factor=settings.diversity_candidate_factor,
        max_candidates=settings.max_candidates,
        default_mode=settings.retrieval_mode,
        max_query_text_chars=settings.max_query_text_chars,
    )
    index = ChunkIndex(store, settings.dimension, limits, settings.max_upsert_records, MetadataSchema(fields))
    servicer = RetrieverServicer(index, DocumentStates(store))

    def register(server: grpc.aio.Server) -> None:
        retriever_pb2_grpc.add_RetrieverServiceServicer_to_server(servicer, server)

    return GrpcService(
        settings=settings,
        tracer_provider=provider,
        metrics=metrics,
        service_names=[retriever_pb2.DESCRIPTOR.services_by_name["RetrieverService"].full_name],
        register=register,
        readiness={"qdrant": store.ready},
        shutdown_hooks=[store.close],
    )


def main() -> None:
    settings = RetrieverSettings()
    run_service(settings, lambda provider: build(settings, provider))


if __name__ == "__main__":
    main()
