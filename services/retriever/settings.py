from __future__ import annotations

from typing import Literal

from pydantic_settings import SettingsConfigDict

from ragmesh_kit.settings import ServiceSettings


class RetrieverSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RETRIEVER_", extra="ignore")

    service_name: str = "retriever"
    port: int = 50053
    metrics_port: int = 9453
    # Embedded Qdrant engine (qdrant-edge) keeps its shard here, unless qdrant_url is set.
    data_dir: str = ".run/data/qdrant"
    # A Qdrant server or cluster (e.g. http://qdrant:6333); switches the store to qdrant-client.
    qdrant_url: str = ""
    qdrant_api_key: str = ""
    collection: str = "ragmesh_chunks"
    qdrant_timeout_seconds: float = 10.0
    dimension: int = 384
    max_top_k: int = 100
    max_upsert_records: int = 1024
    # Search-time HNSW beam width; higher trades speed for recall (None: Qdrant's default).
    hnsw_ef: int | None = 128
    # Filterable metadata: "<name>:<type>" entries, type keyword|int|float|bool|datetime. Only these
    # fields may appear in a search filter, and each gets a payload index.
    metadata_fields: str = "year:int,lang:keyword,published:datetime"
    # Per-document cap on search results when a request sets none (0: no cap).
    default_max_chunks_per_document: int = 0
    # With a per-document cap, top_k * this many candidates are fetched (at most max_candidates).
    diversity_candidate_factor: int = 4
    max_candidates: int = 400
    # Mode of a search that names none and sends its query text: "hybrid" (embedding similarity
    # fused with BM25 term matching) or "dense" (embedding similarity alone).
    retrieval_mode: Literal["dense", "hybrid"] = "hybrid"
    # Reciprocal rank fusion constant k (score = sum of 1 / (k + rank), rank from 0); larger flattens
    # the ranks, smaller lets each list's first hits stand out.
    rrf_k: int = 5
    # Each list of a hybrid search (dense, terms) brings at least this many candidates to the fusion.
    hybrid_candidates: int = 50
    # Longest query_text a search accepts (characters).
    max_query_text_chars: int = 8000
