from __future__ import annotations

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
