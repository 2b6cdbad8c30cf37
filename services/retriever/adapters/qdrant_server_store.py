"""``ChunkStore`` on a Qdrant server or cluster through ``qdrant_client.AsyncQdrantClient``.

Same payload layout, point ids and filter rules as the edge adapter (``qdrant_payload``), so the two
stores hold interchangeable points. Writes pass ``wait=True``: the call returns once the server has
applied the write (written to its WAL), which is what "acknowledged" means to the ingest pipeline.

Document states are payload points in a second collection (``<collection>_document_states``). Their
read-choose-write is serialised by a lock in this process: correct with one retriever replica (the
deployment today); several replicas writing states would need Qdrant's conditional update instead.

Hybrid search as in the edge adapter: each chunk point carries a sparse vector of BM25 term
weights (``qp.SPARSE_VECTOR``, IDF modifier) written in the same upsert as its dense vector; a search
with the query text fuses a dense and a term prefetch by reciprocal rank in one ``query_points``. A
collection created before hybrid retrieval is migrated by ``ensure_collection``: the sparse vector
is added (``create_vector_name``) and filled in from each point's stored text; points still
missing it are found by a filter, so every replica's start finishes an interrupted migration.
Needs Qdrant 1.19 or later (the IDF corpus filter of hybrid search; 1.18 for the migration).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import httpx
from qdrant_client import AsyncQdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException

from ragmesh_kit.domain import ChunkWithVector, DocumentStatus, MetadataFilter, ScoredChunk
from ragmesh_kit.errors import DependencyFailed, DependencyUnavailable, InvalidArgument, RagmeshError
from services.retriever.adapters import qdrant_payload as qp
from services.retriever.app.ports import StateChooser
from services.retriever.app.term_weights import SparseTerms, query_terms

# Points filled in per request when migrating a collection to hybrid search.
_BACKFILL_PAGE = 256


class QdrantServerStore:
    """Chunks of all tenants in one collection; every search is filtered to one tenant."""

    def __init__(
        self,
        client: AsyncQdrantClient,
        collection: str,
        vector_size: int,
        *,
        hnsw_ef: int | None = None,
        exact: bool = False,
        upsert_batch: int = 256,
        metadata_fields: Mapping[str, str] | None = None,
        rrf_k: int = qp.DEFAULT_RRF_K,
        hybrid_candidates: int = qp.DEFAULT_HYBRID_CANDIDATES,
    ) -> None:
        self._rrf_k = rrf_k
        self._hybrid_candidates = hybrid_candidates
        # The client is injected so tests can pass qdrant-client's local mode; ``connect`` builds one.
        self._client = client
        self._collection = collection
        self._states_collection = f"{collection}_document_states"
        self._metadata_fields = dict(metadata_fields or {})
        self._datetime_fields = {name for name, kind in self._metadata_fields.items() if kind == "datetime"}
        self._state_lock = asyncio.Lock()
        self._vector_size = vector_size
        self._search_params = models.SearchParams(hnsw_ef=hnsw_ef, exact=exact) if hnsw_ef or exact else None
        self._upsert_batch = max(1, upsert_batch)
        self._closed = False

    @classmethod
    async def connect(
        cls,
        url: str,
        collection: str,
        vector_size: int,
        *,
        api_key: str | None = None,
        timeout: int | None = None,
        **options: Any,
    ) -> QdrantServerStore:
        store = cls(AsyncQdrantClient(url=url, api_key=api_key, timeout=timeout), collection, vector_size, **options)
        await store.ensure_collection()
        return store

    async def ensure_collection(self) -> None:
        """Creates the collection and its payload indexes if missing, and migrates one created before
        hybrid search (adds and fills in the sparse vector); safe to run from every replica."""
        async with self._errors():
            await self._create_if_missing(self._states_collection, len(qp.STATE_VECTOR))
            await self._create_if_missing(self._collection, self._vector_size, terms=True)
            info = await self._client.get_collection(self._collection)
            vectors = info.config.params.vectors
            if isinstance(vectors, models.VectorParams) and vectors.size != self._vector_size:
                raise InvalidArgument(
                    f"collection {self._collection!r} holds {vectors.size}-d vectors, not {self._vector_size}"
                )
            if qp.SPARSE_VECTOR not in (info.config.params.sparse_vectors or {}):
                try:
                    await self._client.create_vector_name(
                        self._collection,
                        qp.SPARSE_VECTOR,
                        models.SparseVectorNameConfig(sparse=models.SparseVectorConfig(modifier=models.Modifier.IDF)),
                        wait=True,
                    )
                except Exception as exc:
                    raise DependencyFailed(
                        f"collection {self._collection!r} predates hybrid search and its sparse vector "
                        f"{qp.SPARSE_VECTOR!r} could not be added (Qdrant 1.18 or later adds named vectors): {exc}"
                    ) from exc
            await self._backfill_terms()
            for field, kind in [*qp.PAYLOAD_INDEXES, *qp.metadata_indexes(self._metadata_fields)]:
                if field not in info.payload_schema:
                    await self._client.create_payload_index(
                        self._collection, field, field_schema=_index_schema(kind), wait=True
                    )

    async def _backfill_terms(self) -> int:
        """Gives every point without a sparse vector one computed from its stored text; returns how
        many (0 once migrated: points written since always carry one, possibly empty)."""
        missing = models.Filter(must_not=[models.HasVectorCondition(has_vector=qp.SPARSE_VECTOR)])
        filled = 0
        offset: Any = None
        while True:
            page, offset = await self._client.scroll(
                self._collection, scroll_filter=missing, limit=_BACKFILL_PAGE, offset=offset, with_payload=True
            )
            if page:
                vectors = [
                    models.PointVectors(id=p.id, vector={qp.SPARSE_VECTOR: _sparse(qp.payload_terms(p.payload))})
                    for p in page
                ]
                await self._client.update_vectors(self._collection, points=vectors, wait=True)
                filled += len(page)
            if offset is None:
                return filled

    async def _create_if_missing(self, collection: str, size: int, *, terms: bool = False) -> None:
        if not await self._client.collection_exists(collection):
            try:
                await self._client.create_collection(
                    collection,
                    vectors_config=models.VectorParams(size=size, distance=models.Distance.COSINE),
                    sparse_vectors_config={qp.SPARSE_VECTOR: _SPARSE_PARAMS} if terms else None,
                )
            except Exception:
                # Another replica may have created it between the check and the call.
                if not await self._client.collection_exists(collection):
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
        self._check_vector(vector)
        query_filter = _filter(qp.search_conditions(tenant_id, filters, self._datetime_fields))
        if top_k <= 0:
            return []
        dense = [float(x) for x in vector]
        threshold = qp.effective_threshold(score_threshold)
        terms = query_terms(query_text) if query_text else None
        if not terms or not terms.indices:
            async with self._errors():
                response = await self._client.query_points(
                    self._collection,
                    query=dense,
                    query_filter=query_filter,
                    limit=top_k,
                    score_threshold=threshold,
                    with_payload=True,
                    search_params=self._search_params,
                )
            return [ScoredChunk(chunk=qp.parse_payload(p.payload), score=p.score) for p in response.points]
        candidates = max(top_k, self._hybrid_candidates)
        # Document frequencies over the tenant's own points (see the edge adapter).
        idf = models.SearchParams(idf=models.IdfCorpusParams(corpus=_filter([qp.tenant_condition(tenant_id)])))
        async with self._errors():
            response = await self._client.query_points(
                self._collection,
                prefetch=[
                    models.Prefetch(
                        query=dense,
                        filter=query_filter,
                        limit=candidates,
                        score_threshold=threshold,
                        params=self._search_params,
                    ),
                    models.Prefetch(
                        query=_sparse(terms), using=qp.SPARSE_VECTOR, filter=query_filter, limit=candidates, params=idf
                    ),
                ],
                query=models.RrfQuery(rrf=models.Rrf(k=self._rrf_k)),
                query_filter=query_filter,
                # Room for hits the cosine threshold drops after fusion (see qp.fused_results).
                limit=top_k if threshold is None else 2 * top_k,
                with_payload=True,
                with_vectors=[""],
            )
        found = [(_dense(p.vector), p.payload) for p in response.points]
        return qp.fused_results(found, vector, top_k, score_threshold)

    async def upsert(self, tenant_id: str, records: Sequence[ChunkWithVector]) -> int:
        for record in records:
            self._check_vector(record.vector)
        async with self._errors():
            for start in range(0, len(records), self._upsert_batch):
                points = [
                    models.PointStruct(
                        id=qp.point_id(tenant_id, r.chunk.chunk_id),
                        vector={"": [float(x) for x in r.vector], qp.SPARSE_VECTOR: _sparse(qp.chunk_terms(r.chunk))},
                        payload=qp.build_payload(tenant_id, r.chunk),
                    )
                    for r in records[start : start + self._upsert_batch]
                ]
                await self._client.upsert(self._collection, points=points, wait=True)
        return len(records)

    async def delete_document(self, tenant_id: str, document_id: str, below_version: int) -> None:
        selector = models.FilterSelector(filter=_filter(qp.delete_conditions(tenant_id, document_id, below_version)))
        async with self._errors():
            await self._client.delete(self._collection, points_selector=selector, wait=True)

    async def count(self, tenant_id: str, document_id: str | None = None) -> int:
        """Exact number of the tenant's points (of one document if given); for tests and operators."""
        conds = [qp.tenant_condition(tenant_id)]
        if document_id is not None:
            conds.append(qp.Condition(key=qp.DOCUMENT_ID, kind="value", value=document_id))
        async with self._errors():
            result = await self._client.count(self._collection, count_filter=_filter(conds), exact=True)
        return result.count

    async def get_document_state(self, tenant_id: str, document_id: str) -> DocumentStatus | None:
        async with self._errors():
            return await self._read_state(qp.state_point_id(tenant_id, document_id))

    async def record_document_state(
        self, tenant_id: str, status: DocumentStatus, choose: StateChooser
    ) -> DocumentStatus:
        point = qp.state_point_id(tenant_id, status.document_id)
        async with self._state_lock, self._errors():
            current = await self._read_state(point)
            kept = choose(current, status)
            if kept != current:
                state = models.PointStruct(
                    id=point, vector=list(qp.STATE_VECTOR), payload=qp.build_state_payload(tenant_id, kept)
                )
                await self._client.upsert(self._states_collection, points=[state], wait=True)
        return kept

    async def _read_state(self, point: str) -> DocumentStatus | None:
        found = await self._client.retrieve(self._states_collection, ids=[point], with_payload=True)
        return qp.parse_state_payload(found[0].payload) if found else None

    async def ready(self) -> bool:
        if self._closed:
            return False
        try:
            return await self._client.collection_exists(self._collection)
        except Exception:  # noqa: BLE001 - any failure to answer means "not ready", never an error of the probe
            return False

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._client.close()

    def _check_vector(self, vector: Sequence[float]) -> None:
        if len(vector) != self._vector_size:
            raise InvalidArgument(f"vector has {len(vector)} dimensions, the store holds {self._vector_size}")

    @asynccontextmanager
    async def _errors(self) -> AsyncIterator[None]:
        """Maps client failures to the service's error kinds (unreachable vs. answered with an error)."""
        if self._closed:
            raise DependencyUnavailable("qdrant store is closed")
        try:
            yield
        except RagmeshError:
            raise
        except (ResponseHandlingException, httpx.TransportError, ConnectionError) as exc:
            raise DependencyUnavailable(f"qdrant: {exc}") from exc
        except Exception as exc:
            raise DependencyFailed(f"qdrant: {exc}") from exc


_SPARSE_PARAMS = models.SparseVectorParams(modifier=models.Modifier.IDF)


def _sparse(terms: SparseTerms) -> models.SparseVector:
    return models.SparseVector(indices=terms.indices, values=terms.values)


def _dense(vector: Any) -> list[float] | None:
    """The unnamed dense vector of a hit fetched with ``with_vectors=[""]`` (a list, or a dict of
    named vectors depending on the server's reply)."""
    if isinstance(vector, dict):
        vector = vector.get("")
    return [float(x) for x in vector] if isinstance(vector, list) else None


def _index_schema(
    kind: qp.IndexKind,
) -> models.KeywordIndexParams | models.IntegerIndexParams | models.FloatIndexParams | models.DatetimeIndexParams:
    if kind == "tenant_keyword":
        return models.KeywordIndexParams(type=models.KeywordIndexType.KEYWORD, is_tenant=True)
    if kind == "keyword":
        return models.KeywordIndexParams(type=models.KeywordIndexType.KEYWORD)
    if kind == "float":
        return models.FloatIndexParams(type=models.FloatIndexType.FLOAT)
    if kind == "datetime":
        return models.DatetimeIndexParams(type=models.DatetimeIndexType.DATETIME)
    return models.IntegerIndexParams(type=models.IntegerIndexType.INTEGER, lookup=True, range=True)


def _filter(conditions: Sequence[qp.Condition]) -> models.Filter:
    return models.Filter(must=[_condition(c) for c in conditions])


def _condition(c: qp.Condition) -> models.FieldCondition:
    if c.kind == "value":
        assert c.value is not None
        return models.FieldCondition(key=c.key, match=models.MatchValue(value=c.value))
    if c.kind == "any":
        return models.FieldCondition(key=c.key, match=models.MatchAny(any=list(c.values)))
    if c.kind == "datetime_range":
        assert c.dt is not None
        return models.FieldCondition(
            key=c.key,
            range=models.DatetimeRange(
                gt=_moment(c.dt.gt), gte=_moment(c.dt.gte), lt=_moment(c.dt.lt), lte=_moment(c.dt.lte)
            ),
        )
    assert c.rng is not None
    return models.FieldCondition(key=c.key, range=models.Range(gt=c.rng.gt, gte=c.rng.gte, lt=c.rng.lt, lte=c.rng.lte))


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
