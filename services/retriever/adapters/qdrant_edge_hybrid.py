"""The hybrid-search parts of the qdrant-edge adapter: the fused query, the sparse vectors, and the
migration of a shard created before the sparse vector existed."""

from __future__ import annotations

import json

from qdrant_edge import (
    EdgeShard,
    Filter,
    Fusion,
    HasVectorCondition,
    IdfParams,
    Modifier,
    PointVectors,
    Prefetch,
    Query,
    QueryRequest,
    ScrollRequest,
    SearchParams,
    SparseVector,
    UpdateOperation,
)

from services.retriever.adapters import qdrant_payload as qp
from services.retriever.app.term_weights import SparseTerms

# Points filled in per step when migrating a shard to hybrid search.
_BACKFILL_PAGE = 256


def sparse_vector(terms: SparseTerms) -> SparseVector:
    return SparseVector(terms.indices, terms.values)


def dense_of(vector: object) -> list[float] | None:
    """The unnamed dense vector of a hit fetched with ``with_vector=[""]`` (a list, or a dict of
    named vectors depending on what the point holds)."""
    if isinstance(vector, dict):
        vector = vector.get("")
    return list(vector) if isinstance(vector, list) else None


def hybrid_request(
    dense: Query,
    terms: SparseTerms,
    query_filter: Filter,
    tenant_filter: Filter,
    threshold: float | None,
    top_k: int,
    candidates: int,
    rrf_k: int,
    dense_params: SearchParams | None,
) -> QueryRequest:
    """One query: a dense and a term prefetch (both filtered), fused by reciprocal rank, returning
    each hit's dense vector so the caller can score it by cosine (``qp.fused_results``)."""
    # Document frequencies over the tenant's own points: other tenants' texts neither shape nor
    # leak through this tenant's scores.
    idf = SearchParams(idf=IdfParams(corpus=tenant_filter))
    return QueryRequest(
        # Room for hits the cosine threshold drops after fusion.
        limit=top_k if threshold is None else 2 * top_k,
        prefetches=[
            Prefetch(
                limit=candidates, query=dense, filter=query_filter, score_threshold=threshold, params=dense_params
            ),
            Prefetch(
                limit=candidates,
                query=Query.Nearest(sparse_vector(terms), using=qp.SPARSE_VECTOR),
                filter=query_filter,
                params=idf,
            ),
        ],
        # The stub types Fusion's variants as nested classes, not as Fusion values.
        query=Fusion.Rrf(k=rrf_k),  # type: ignore[arg-type]
        filter=query_filter,
        with_payload=True,
        with_vector=[""],
    )


def migrate_to_terms(shard: EdgeShard, config_file: str) -> int:
    """Adds the sparse vector to a shard created without it (its ``edge_config.json`` says which
    vectors it has), then fills in every point missing one; returns how many were filled."""
    with open(config_file) as stored:
        has_terms = qp.SPARSE_VECTOR in (json.load(stored).get("sparse_vectors") or {})
    if not has_terms:
        shard.update(UpdateOperation.create_sparse_vector(qp.SPARSE_VECTOR, Modifier.Idf))
    return backfill_terms(shard)


def backfill_terms(shard: EdgeShard) -> int:
    """Gives every point without a sparse vector one computed from its stored text; returns how
    many. Points written since hybrid search always carry one (possibly empty), so on a migrated
    shard this is one empty scroll."""
    missing = Filter(must_not=[HasVectorCondition(qp.SPARSE_VECTOR)])
    filled = 0
    offset = None
    while True:
        page, offset = shard.scroll(
            ScrollRequest(offset=offset, limit=_BACKFILL_PAGE, filter=missing, with_payload=True)
        )
        if page:
            vectors = [PointVectors(p.id, {qp.SPARSE_VECTOR: sparse_vector(qp.payload_terms(p.payload))}) for p in page]
            shard.update(UpdateOperation.update_vectors(vectors))
            filled += len(page)
        if offset is None:
            return filled
