"""``ChunkStore`` on qdrant-edge: the Qdrant engine in this process, one shard in a local directory.

Threading. qdrant-edge-py 0.9.0 is synchronous and, as measured, holds the GIL for the whole of every
call (a Python thread spinning beside a 14 ms query, or a 190 ms flush, is stalled for all of it);
calls from several threads are safe (concurrent upserts and queries gave consistent counts) but never
overlap. So the engine runs on one dedicated worker thread:
  - more threads (``asyncio.to_thread``'s shared pool) would buy no parallelism, and would compete with
    every other ``to_thread`` user of the process; the engine already spreads one search over its own
    Rust thread pool (``max_search_threads``);
  - one worker runs calls in submission order, so writes need no lock (an upsert and a later
    ``delete_document`` apply in that order), and ``close`` queued behind in-flight calls cannot pull
    the shard out from under them.
Because the GIL is held, the event loop still pauses for each engine call; upserts are therefore cut
into batches of ``upsert_batch`` points so that searches interleave with a large write.

Document states. Each (tenant, document) state is one point, keyed by ``qp.state_point_id``, in a
second shard beside the chunks (``<path>-states``), so state lookups never touch chunk searches and the
states survive restarts exactly as chunks do. ``record_document_state`` reads and writes inside one
call on the worker thread, so no other write can come between its read and its write.

Durability. With the WAL on (the default), ``update`` writes the WAL through a memory map and returns
with no fsync (strace: no fsync/msync between updates). The pages are the kernel's, so an acknowledged
upsert survives a process kill (SIGKILL; see the kill test) without ``flush``, but not a kernel crash
or power loss. ``flush`` (msync + fsync of WAL and segments) closes that gap at 50-200 ms per call on
this machine, against ~0.4 ms for a 10-point upsert; ``flush_each_write=True`` pays it on every write.

Hybrid search. Every chunk point carries its dense vector and, in the same upsert, a sparse vector
of BM25 term weights (``qp.SPARSE_VECTOR``, IDF modifier). A search given the query text runs one
query: a dense prefetch and a term prefetch (IDF over the tenant's own points), fused by reciprocal
rank. Shards created before hybrid retrieval are migrated on open: the sparse vector is added to
the shard and filled in from each point's stored text (points still missing it are found by a
filter, so a migration cut short by a crash resumes on the next open).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from qdrant_edge import (
    CountRequest,
    EdgeShard,
    Point,
    Query,
    QueryRequest,
    SearchParams,
    UpdateOperation,
)

from ragmesh_kit.domain import ChunkWithVector, DocumentStatus, MetadataFilter, ScoredChunk
from ragmesh_kit.errors import DependencyFailed, DependencyUnavailable, InvalidArgument, RagmeshError
from services.retriever.adapters import qdrant_payload as qp
from services.retriever.adapters.qdrant_edge_hybrid import dense_of, hybrid_request, sparse_vector
from services.retriever.adapters.qdrant_edge_shard import apply, hnsw_config, open_shard, read_state, to_filter
from services.retriever.app.ports import StateChooser
from services.retriever.app.term_weights import query_terms

T = TypeVar("T")


class QdrantEdgeStore:
    """Chunks of all tenants in one edge shard; every search is filtered to one tenant."""

    def __init__(
        self,
        path: str,
        vector_size: int,
        *,
        hnsw_ef: int | None = None,
        exact: bool = False,
        hnsw_m: int | None = None,
        hnsw_ef_construct: int | None = None,
        max_search_threads: int | None = None,
        flush_each_write: bool = False,
        upsert_batch: int = 256,
        metadata_fields: Mapping[str, str] | None = None,
        states_path: str | None = None,
        rrf_k: int = qp.DEFAULT_RRF_K,
        hybrid_candidates: int = qp.DEFAULT_HYBRID_CANDIDATES,
    ) -> None:
        self._path = path
        self._rrf_k = rrf_k
        self._hybrid_candidates = hybrid_candidates
        self._states_path = states_path or path.rstrip("/") + "-states"
        self._metadata_fields = dict(metadata_fields or {})
        self._datetime_fields = {name for name, kind in self._metadata_fields.items() if kind == "datetime"}
        self._vector_size = vector_size
        self._search_params = SearchParams(hnsw_ef=hnsw_ef, exact=exact) if hnsw_ef or exact else None
        self._hnsw = hnsw_config(hnsw_m, hnsw_ef_construct)
        self._max_search_threads = max_search_threads
        self._flush_each_write = flush_each_write
        self._upsert_batch = max(1, upsert_batch)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qdrant-edge")
        self._shard: EdgeShard | None = None
        self._states: EdgeShard | None = None

    @classmethod
    async def open(cls, path: str, vector_size: int, **options: Any) -> QdrantEdgeStore:
        """Creates the shard at ``path``, or reloads it (the WAL replays every acknowledged write)."""
        store = cls(path, vector_size, **options)
        await store.start()
        return store

    async def start(self) -> None:
        if self._shard is None:
            loop = asyncio.get_running_loop()
            indexes = [*qp.PAYLOAD_INDEXES, *qp.metadata_indexes(self._metadata_fields)]
            self._states = await loop.run_in_executor(
                self._executor,
                partial(open_shard, self._states_path, len(qp.STATE_VECTOR), None, [], False, self._max_search_threads),
            )
            self._shard = await loop.run_in_executor(
                self._executor,
                partial(open_shard, self._path, self._vector_size, self._hnsw, indexes, True, self._max_search_threads),
            )

    async def _run(self, fn: Callable[[EdgeShard], T], *, states: bool = False) -> T:
        def call() -> T:
            # Read on the worker: a close queued earlier has already run.
            shard = self._states if states else self._shard
            if shard is None:
                raise DependencyUnavailable("qdrant-edge store is closed")
            try:
                return fn(shard)
            except RagmeshError:
                raise
            except Exception as exc:  # the engine raises bare Exception for every failure
                raise DependencyFailed(f"qdrant-edge: {exc}") from exc

        if self._shard is None:
            raise DependencyUnavailable("qdrant-edge store is not open")
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

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
        # Rejects bad filters first.
        query_filter = to_filter(qp.search_conditions(tenant_id, filters, self._datetime_fields))
        if top_k <= 0:
            return []
        dense = Query.Nearest([float(x) for x in vector])
        threshold = qp.effective_threshold(score_threshold)
        terms = query_terms(query_text) if query_text else None
        if not terms or not terms.indices:
            request = QueryRequest(
                limit=top_k,
                query=dense,
                filter=query_filter,
                score_threshold=threshold,
                with_payload=True,
                params=self._search_params,
            )
            points = await self._run(lambda shard: shard.query(request))
            return [ScoredChunk(chunk=qp.parse_payload(p.payload), score=p.score) for p in points]
        fused = hybrid_request(
            dense,
            terms,
            query_filter,
            to_filter([qp.tenant_condition(tenant_id)]),
            threshold,
            top_k,
            max(top_k, self._hybrid_candidates),
            self._rrf_k,
            self._search_params,
        )
        points = await self._run(lambda shard: shard.query(fused))
        return qp.fused_results([(dense_of(p.vector), p.payload) for p in points], vector, top_k, score_threshold)

    async def upsert(self, tenant_id: str, records: Sequence[ChunkWithVector]) -> int:
        for record in records:
            self._check_vector(record.vector)
        for start in range(0, len(records), self._upsert_batch):
            points = [
                Point(
                    qp.point_id(tenant_id, r.chunk.chunk_id),
                    {"": [float(x) for x in r.vector], qp.SPARSE_VECTOR: sparse_vector(qp.chunk_terms(r.chunk))},
                    qp.build_payload(tenant_id, r.chunk),
                )
                for r in records[start : start + self._upsert_batch]
            ]
            await self._run(partial(apply, UpdateOperation.upsert_points(points)))
        if records and self._flush_each_write:
            await self.flush()
        return len(records)

    async def delete_document(self, tenant_id: str, document_id: str, below_version: int) -> None:
        op = UpdateOperation.delete_points_by_filter(
            to_filter(qp.delete_conditions(tenant_id, document_id, below_version))
        )
        await self._run(partial(apply, op))
        if self._flush_each_write:
            await self.flush()

    async def count(self, tenant_id: str, document_id: str | None = None) -> int:
        """Exact number of the tenant's points (of one document if given); for tests and operators."""
        conds = [qp.tenant_condition(tenant_id)]
        if document_id is not None:
            conds.append(qp.Condition(key=qp.DOCUMENT_ID, kind="value", value=document_id))
        request = CountRequest(exact=True, filter=to_filter(conds))
        return await self._run(lambda shard: shard.count(request))

    async def get_document_state(self, tenant_id: str, document_id: str) -> DocumentStatus | None:
        point = qp.state_point_id(tenant_id, document_id)
        return await self._run(lambda shard: read_state(shard, point), states=True)

    async def record_document_state(
        self, tenant_id: str, status: DocumentStatus, choose: StateChooser
    ) -> DocumentStatus:
        point = qp.state_point_id(tenant_id, status.document_id)

        def read_choose_write(shard: EdgeShard) -> DocumentStatus:
            current = read_state(shard, point)
            kept = choose(current, status)
            if kept != current:
                payload = qp.build_state_payload(tenant_id, kept)
                shard.update(UpdateOperation.upsert_points([Point(point, list(qp.STATE_VECTOR), payload)]))
            return kept

        kept = await self._run(read_choose_write, states=True)
        if self._flush_each_write:
            await self._run(lambda shard: shard.flush(), states=True)
        return kept

    async def flush(self) -> None:
        """Forces written data to stable storage (survives power loss, not only a process kill)."""
        await self._run(lambda shard: shard.flush())
        await self._run(lambda shard: shard.flush(), states=True)

    async def optimize(self) -> bool:
        """Builds HNSW indexes and merges segments; edge has no background optimizer, so without this
        searches scan the tenant's points. Blocks the worker (minutes at 100k points)."""
        return await self._run(lambda shard: shard.optimize())

    async def ready(self) -> bool:
        return self._shard is not None

    async def close(self) -> None:
        if self._shard is None:
            return

        def shut() -> None:
            shards, self._shard, self._states = (self._shard, self._states), None, None
            for shard in shards:
                if shard is not None:
                    shard.flush()
                    shard.close()

        # Queued behind in-flight calls on the single worker, so none of them loses the shard.
        await asyncio.get_running_loop().run_in_executor(self._executor, shut)
        self._executor.shutdown(wait=False)

    def _check_vector(self, vector: Sequence[float]) -> None:
        if len(vector) != self._vector_size:
            raise InvalidArgument(f"vector has {len(vector)} dimensions, the store holds {self._vector_size}")
