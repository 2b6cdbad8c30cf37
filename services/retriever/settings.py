from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from ragmesh_kit.settings import ServiceSettings, json_or_earlier
from services.retriever.app.metadata_schema import FIELD_TYPES, FieldType, parse_declared_fields

DEFAULT_METADATA_FIELDS: dict[str, FieldType] = {"year": "int", "lang": "keyword", "published": "datetime"}


class RetrieverSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RETRIEVER_", extra="ignore")

    service_name: str = Field("retriever", description="Service name in traces, logs and metrics.")
    port: int = Field(50053, description="gRPC port (RetrieverService, grpc.health.v1 and reflection).")
    metrics_port: int = Field(9453, description="Port of the Prometheus /metrics endpoint; 0 turns it off.")
    data_dir: str = Field(
        ".run/data/qdrant",
        description="The embedded Qdrant engine (qdrant-edge) keeps its shard here, unless qdrant_url is set.",
    )
    qdrant_url: str = Field(
        "", description="A Qdrant server or cluster (e.g. http://qdrant:6333); switches the store to qdrant-client."
    )
    qdrant_api_key: str = Field("", description="API key of the Qdrant server (server mode).")
    collection: str = Field("ragmesh_chunks", description="Qdrant collection of the chunks (server mode).")
    qdrant_timeout_seconds: float = Field(10.0, description="Longest wait in seconds for one Qdrant server call.")
    dimension: int = Field(384, description="Embedding dimension (must match the model and the store).")
    max_top_k: int = Field(100, description="Largest top_k a search may ask for (INVALID_ARGUMENT beyond).")
    max_upsert_records: int = Field(
        1024, description="Most records in one Upsert (INVALID_ARGUMENT beyond, nothing written)."
    )
    hnsw_ef: int | None = Field(
        128, description="Search-time HNSW beam width; higher trades speed for recall (None: Qdrant's default)."
    )
    metadata_fields: Annotated[dict[str, FieldType], NoDecode] = Field(
        default_factory=lambda: dict(DEFAULT_METADATA_FIELDS),
        description='Filterable metadata as JSON, e.g. {"year": "int", "lang": "keyword"}, type one of '
        f'{", ".join(FIELD_TYPES)} (the earlier "year:int,lang:keyword" is still accepted). Only these fields '
        "may appear in a search filter, and each gets a payload index.",
    )
    default_max_chunks_per_document: int = Field(
        0, description="Per-document cap on search results when a request sets none (0: no cap)."
    )
    diversity_candidate_factor: int = Field(
        4, description="With a per-document cap, top_k * this many candidates are fetched (at most max_candidates)."
    )
    max_candidates: int = Field(
        400, description="Most candidates fetched before the per-document cap trims them to top_k."
    )
    retrieval_mode: Literal["dense", "hybrid"] = Field(
        "hybrid",
        description='Mode of a search that names none and sends its query text: "hybrid" (embedding similarity '
        'fused with BM25 term matching) or "dense" (embedding similarity alone).',
    )
    rrf_k: int = Field(
        5,
        description="Reciprocal rank fusion constant k (score = sum of 1 / (k + rank), rank from 0); larger "
        "flattens the ranks, smaller lets each list's first hits stand out.",
    )
    hybrid_candidates: int = Field(
        50,
        description="Each list of a hybrid search (dense, terms) brings at least this many candidates to the fusion.",
    )
    max_query_text_chars: int = Field(8000, description="Longest query_text a search accepts (characters).")

    @field_validator("metadata_fields", mode="before")
    @classmethod
    def _metadata_fields(cls, value: Any) -> Any:
        return json_or_earlier(value, "metadata_fields", '{"<name>": "<type>", ...}', parse_declared_fields)
