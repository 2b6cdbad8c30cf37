"""A ``ChunkStore`` that wraps another in one client span per store call, named and attributed as
OpenTelemetry's database conventions say (``db.system``, ``db.operation.name``,
``db.collection.name``), plus the tenant. Never the document text or the vectors: spans are kept in
Jaeger, outside the tenant's data boundary."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from ragmesh_kit.domain import ChunkWithVector, DocumentStatus, MetadataFilter, ScoredChunk
from services.retriever.app.ports import ChunkStore, StateChooser


class TracedChunkStore:
    def __init__(self, store: ChunkStore, tracer: trace.Tracer, collection: str, states_collection: str) -> None:
        self._store = store
        self._tracer = tracer
        self._collection = collection
        self._states_collection = states_collection

    @contextmanager
    def _span(self, operation: str, tenant_id: str, collection: str | None = None) -> Iterator[Span]:
        name = collection or self._collection
        with self._tracer.start_as_current_span(
            f"qdrant {operation} {name}", kind=SpanKind.CLIENT, record_exception=True
        ) as span:
            span.set_attribute("db.system", "qdrant")
            span.set_attribute("db.operation.name", operation)
            span.set_attribute("db.collection.name", name)
            span.set_attribute("ragmesh.tenant_id", tenant_id)
            try:
                yield span
            except Exception as error:
                span.set_status(Status(StatusCode.ERROR, type(error).__name__))
                raise

    async def search(
        self,
        tenant_id: str,
        vector: Sequence[float],
        top_k: int,
        filters: Sequence[MetadataFilter],
        score_threshold: float,
        query_text: str = "",
    ) -> list[ScoredChunk]:
        with self._span("query", tenant_id) as span:
            span.set_attribute("ragmesh.top_k", top_k)
            span.set_attribute("ragmesh.filter_fields", [f.field for f in filters])
            span.set_attribute("ragmesh.retrieval_mode", "hybrid" if query_text else "dense")
            found = await self._store.search(tenant_id, vector, top_k, filters, score_threshold, query_text)
            span.set_attribute("ragmesh.result_count", len(found))
            return found

    async def upsert(self, tenant_id: str, records: Sequence[ChunkWithVector]) -> int:
        with self._span("upsert", tenant_id) as span:
            span.set_attribute("ragmesh.point_count", len(records))
            return await self._store.upsert(tenant_id, records)

    async def delete_document(self, tenant_id: str, document_id: str, below_version: int) -> None:
        with self._span("delete", tenant_id) as span:
            span.set_attribute("ragmesh.document_id", document_id)
            span.set_attribute("ragmesh.below_version", below_version)
            await self._store.delete_document(tenant_id, document_id, below_version)

    async def count(self, tenant_id: str, document_id: str | None = None) -> int:
        with self._span("count", tenant_id):
            return await self._store.count(tenant_id, document_id)

    async def get_document_state(self, tenant_id: str, document_id: str) -> DocumentStatus | None:
        with self._span("retrieve", tenant_id, self._states_collection) as span:
            span.set_attribute("ragmesh.document_id", document_id)
            return await self._store.get_document_state(tenant_id, document_id)

    async def record_document_state(
        self, tenant_id: str, status: DocumentStatus, choose: StateChooser
    ) -> DocumentStatus:
        with self._span("upsert", tenant_id, self._states_collection) as span:
            span.set_attribute("ragmesh.document_id", status.document_id)
            return await self._store.record_document_state(tenant_id, status, choose)

    async def ready(self) -> bool:
        return await self._store.ready()

    async def close(self) -> None:
        await self._store.close()
