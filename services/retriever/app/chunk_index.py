"""Use cases of the retriever: search, upsert, delete and count chunks of one tenant."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ragmesh_kit.domain import HYBRID, ChunkWithVector, MetadataFilter, RetrievalMode, ScoredChunk
from ragmesh_kit.errors import InvalidArgument
from services.retriever.app.metadata_schema import MetadataSchema
from services.retriever.app.ports import ChunkStore


def _require_tenant(tenant_id: str) -> None:
    if not tenant_id:
        raise InvalidArgument("tenant_id is empty; every retriever call names its tenant")


@dataclass(frozen=True)
class SearchLimits:
    max_top_k: int = 100
    # Used when a request leaves max_chunks_per_document at 0 (0 here too: no limit).
    default_max_chunks_per_document: int = 0
    # With a per-document limit, this many times top_k candidates are fetched (up to max_candidates),
    # so that dropping a document's extra chunks still leaves top_k results.
    candidate_factor: int = 4
    max_candidates: int = 400
    # The mode of a search whose request names none.
    default_mode: RetrievalMode = HYBRID
    max_query_text_chars: int = 8000


def diversify(found: Sequence[ScoredChunk], top_k: int, per_document: int) -> list[ScoredChunk]:
    """The best ``top_k`` of ``found`` (sorted by score) with at most ``per_document`` chunks of any
    one document; 0 means no per-document limit."""
    if per_document <= 0:
        return list(found[:top_k])
    kept: list[ScoredChunk] = []
    taken: dict[str, int] = {}
    for item in found:
        count = taken.get(item.chunk.document_id, 0)
        if count >= per_document:
            continue
        taken[item.chunk.document_id] = count + 1
        kept.append(item)
        if len(kept) == top_k:
            break
    return kept


class ChunkIndex:
    def __init__(
        self,
        store: ChunkStore,
        dimension: int,
        limits: SearchLimits,
        max_upsert_records: int,
        schema: MetadataSchema,
    ) -> None:
        self._store = store
        self._dimension = dimension
        self._limits = limits
        self._max_upsert_records = max_upsert_records
        self._schema = schema

    def _check_vector(self, vector: Sequence[float], what: str) -> None:
        if len(vector) != self._dimension:
            raise InvalidArgument(f"{what} has {len(vector)} dimensions; the index holds {self._dimension}")
        if not all(math.isfinite(value) for value in vector):
            raise InvalidArgument(f"{what} contains NaN or infinite values")

    async def search(
        self,
        tenant_id: str,
        vector: Sequence[float],
        top_k: int,
        filters: Sequence[MetadataFilter],
        score_threshold: float,
        max_chunks_per_document: int = 0,
        query_text: str = "",
        mode: RetrievalMode | None = None,
    ) -> list[ScoredChunk]:
        """``mode`` None: the default mode, hybrid only when ``query_text`` is given (callers that
        send only a vector keep getting dense results); an explicit hybrid needs the text."""
        _require_tenant(tenant_id)
        self._check_vector(vector, "vector")
        limits = self._limits
        if not 1 <= top_k <= limits.max_top_k:
            raise InvalidArgument(f"top_k is {top_k}; use 1 to {limits.max_top_k}")
        if max_chunks_per_document < 0:
            raise InvalidArgument("max_chunks_per_document is negative")
        if not math.isfinite(score_threshold):
            raise InvalidArgument("score_threshold is NaN or infinite")
        self._schema.validate(filters)
        if len(query_text) > limits.max_query_text_chars:
            raise InvalidArgument(
                f"query_text has {len(query_text)} characters; the limit is {limits.max_query_text_chars}"
            )
        if mode == HYBRID and not query_text.strip():
            raise InvalidArgument("hybrid retrieval needs query_text (the question the vector embeds)")
        hybrid = (mode or limits.default_mode) == HYBRID and bool(query_text.strip())
        per_document = max_chunks_per_document or limits.default_max_chunks_per_document
        fetch = top_k
        if per_document:
            fetch = max(top_k, min(top_k * limits.candidate_factor, limits.max_candidates))
        found = await self._store.search(
            tenant_id, vector, fetch, filters, score_threshold, query_text if hybrid else ""
        )
        return diversify(found, top_k, per_document)

    async def upsert(self, tenant_id: str, records: Sequence[ChunkWithVector]) -> int:
        _require_tenant(tenant_id)
        if not records:
            raise InvalidArgument("records is empty; send at least one chunk")
        if len(records) > self._max_upsert_records:
            raise InvalidArgument(f"{len(records)} records in one upsert; send at most {self._max_upsert_records}")
        for index, record in enumerate(records):
            if not record.chunk.chunk_id or not record.chunk.document_id:
                raise InvalidArgument(f"records[{index}] needs chunk_id and document_id")
            self._check_vector(record.vector, f"records[{index}].vector")
        return await self._store.upsert(tenant_id, records)

    async def delete_document(self, tenant_id: str, document_id: str, below_version: int) -> None:
        _require_tenant(tenant_id)
        if not document_id:
            raise InvalidArgument("document_id is empty")
        await self._store.delete_document(tenant_id, document_id, below_version)

    async def count(self, tenant_id: str, document_id: str = "") -> int:
        _require_tenant(tenant_id)
        return await self._store.count(tenant_id, document_id or None)
