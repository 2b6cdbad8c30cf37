"""The qdrant-edge shard under ``QdrantEdgeStore``: creating or reloading one (with the migration to
term vectors and the payload indexes), and the engine's forms of the store's filters and state reads.
Plain functions called on the store's single worker thread (see qdrant_edge_store.py)."""

from __future__ import annotations

import os
from collections.abc import Sequence

from qdrant_edge import (
    DatetimeIndexParams,
    Distance,
    EdgeConfig,
    EdgeShard,
    EdgeSparseVectorParams,
    EdgeVectorParams,
    FieldCondition,
    Filter,
    FloatIndexParams,
    HnswIndexConfig,
    IntegerIndexParams,
    KeywordIndexParams,
    MatchAny,
    MatchValue,
    Modifier,
    RangeDateTime,
    RangeFloat,
    UpdateOperation,
)

from ragmesh_kit.domain import DocumentStatus
from services.retriever.adapters import qdrant_payload as qp
from services.retriever.adapters.qdrant_edge_hybrid import migrate_to_terms

# Written by EdgeShard.create; its presence tells "reload" from "create".
_CONFIG_FILE = "edge_config.json"
# Qdrant's defaults, used when only some HNSW build parameters are given.
_DEFAULT_M = 16
_DEFAULT_EF_CONSTRUCT = 100
_DEFAULT_FULL_SCAN_THRESHOLD_KB = 10_000


def hnsw_config(m: int | None, ef_construct: int | None) -> HnswIndexConfig | None:
    """HNSW build parameters when any is given (the others at Qdrant's defaults); None: the engine's own."""
    if not (m or ef_construct):
        return None
    return HnswIndexConfig(
        m=m or _DEFAULT_M,
        ef_construct=ef_construct or _DEFAULT_EF_CONSTRUCT,
        full_scan_threshold=_DEFAULT_FULL_SCAN_THRESHOLD_KB,
    )


def open_shard(
    path: str,
    size: int,
    hnsw: HnswIndexConfig | None,
    indexes: Sequence[tuple[str, qp.IndexKind]],
    terms: bool,
    max_search_threads: int | None,
) -> EdgeShard:
    dense = EdgeVectorParams(size=size, distance=Distance.Cosine)
    sparse = {qp.SPARSE_VECTOR: EdgeSparseVectorParams(modifier=Modifier.Idf)} if terms else None
    config_file = os.path.join(path, _CONFIG_FILE)
    if os.path.exists(config_file):
        # Passing the dense config makes load fail on a vector size other than the stored one;
        # sparse vectors are left out (inherited), so a shard from before hybrid search loads.
        shard = EdgeShard.load(path, EdgeConfig(vectors=dense, hnsw_config=hnsw, max_search_threads=max_search_threads))
        if terms:
            migrate_to_terms(shard, config_file)
    else:
        os.makedirs(path, exist_ok=True)
        config = EdgeConfig(
            vectors=dense, sparse_vectors=sparse, hnsw_config=hnsw, max_search_threads=max_search_threads
        )
        shard = EdgeShard.create(path, config)
    existing = shard.info().payload_schema
    for field, kind in indexes:
        if field not in existing:
            shard.update(UpdateOperation.create_field_index(field, index_params(kind)))
    return shard


def apply(op: UpdateOperation, shard: EdgeShard) -> None:
    shard.update(op)


def read_state(shard: EdgeShard, point: str) -> DocumentStatus | None:
    found = shard.retrieve([point], True, False)
    return qp.parse_state_payload(found[0].payload) if found else None


def index_params(
    kind: qp.IndexKind,
) -> KeywordIndexParams | IntegerIndexParams | FloatIndexParams | DatetimeIndexParams:
    if kind == "tenant_keyword":
        return KeywordIndexParams(is_tenant=True)
    if kind == "keyword":
        return KeywordIndexParams()
    if kind == "float":
        return FloatIndexParams()
    if kind == "datetime":
        return DatetimeIndexParams()
    return IntegerIndexParams(lookup=True, range=True)


def to_filter(conditions: Sequence[qp.Condition]) -> Filter:
    return Filter(must=[_condition(c) for c in conditions])


def _condition(c: qp.Condition) -> FieldCondition:
    if c.kind == "value":
        assert c.value is not None
        return FieldCondition(key=c.key, match=MatchValue(c.value))
    if c.kind == "any":
        return FieldCondition(key=c.key, match=MatchAny(list(c.values)))
    if c.kind == "datetime_range":
        assert c.dt is not None
        return FieldCondition(key=c.key, range=RangeDateTime(gt=c.dt.gt, gte=c.dt.gte, lt=c.dt.lt, lte=c.dt.lte))
    assert c.rng is not None
    return FieldCondition(key=c.key, range=RangeFloat(gt=c.rng.gt, gte=c.rng.gte, lt=c.rng.lt, lte=c.rng.lte))
