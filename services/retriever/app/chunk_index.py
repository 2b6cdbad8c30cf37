"""Use cases of the retriever: search, upsert and delete chunks of one tenant."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ragmesh_kit.domain import ChunkWithVector, MetadataFilter, ScoredChunk
from ragmesh_kit.errors import InvalidArgument
from services.retriever.app.ports import ChunkStore


def _require_tenant(tenant_id: str) -> None:
    if not tenant_id:
        raise InvalidArgument("tenant_id is empty; every retriever call names its tenant")


class ChunkIndex:
    def __init__(self, store: ChunkStore, dimension: int, max_top_k: int, max_upsert_records: int) -> None:
        self._store = store
        self._dimension = dimension
        self._max_top_k = max_top_k
        self._max_upsert_records = max_upsert_records

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
    ) -> list[ScoredChunk]:
        _require_tenant(tenant_id)
        self._check_vector(vector, "vector")
        if not 1 <= top_k <= self._max_top_k:
            raise InvalidArgument(f"top_k is {top_k}; use 1 to {self._max_top_k}")
        return await self._store.search(tenant_id, vector, top_k, filters, score_threshold)

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
