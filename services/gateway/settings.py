from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from ragmesh_kit.document_events import DOCUMENTS_TOPIC
from ragmesh_kit.domain import DENSE, RetrievalMode
from ragmesh_kit.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    service_name: str = "gateway"
    port: int = 50051
    metrics_port: int = 9451
    embedder_addr: str = "127.0.0.1:50052"
    retriever_addr: str = "127.0.0.1:50053"
    generator_addr: str = "127.0.0.1:50054"
    kafka_bootstrap: str = "127.0.0.1:9092"
    documents_topic: str = DOCUMENTS_TOPIC
    # API keys are stored hashed: lines "<sha256 hex of key> <tenant id>" in this file ...
    api_keys_file: str = ""
    # ... and/or the same entries separated by commas: "<sha256 hex>:<tenant>,...".
    api_keys: str = ""
    embed_timeout_seconds: float = 5.0
    search_timeout_seconds: float = 5.0
    generate_timeout_seconds: float = 60.0
    publish_timeout_seconds: float = 10.0
    default_top_k: int = 5
    max_top_k: int = 50
    max_question_chars: int = 4000
    # A document's size (UTF-8 bytes of text, or its content's bytes); events carry documents, so the
    # topic's max.message.bytes (ragmesh_kit.document_events.MAX_EVENT_BYTES) must stay above it.
    max_document_bytes: int = 2 * 1024 * 1024
    # Chunks below this cosine score are not used when a request sends min_score 0. MiniLM scores
    # unrelated text around 0-0.15 and a chunk that answers the question well above 0.3.
    default_min_score: float = 0.15
    # At most this many chunks of one document per answer, so one long document cannot crowd out
    # the others (0: no limit).
    max_chunks_per_document: int = 3
    # Retrieval for Ask: "dense" or "hybrid" (dense + term weights, fused). Measured on the golden
    # set with the extractive generator: dense answers 0.952 of the facts and says "I don't know"
    # to 0.917 of the unanswerable questions; hybrid 0.984 and 0.75 (term matches give it something
    # to quote), 0.921 and 0.917 with a stricter relevance threshold. Search defaults to hybrid.
    ask_retrieval_mode: RetrievalMode = DENSE
    # Reranking for Ask (off by default: it costs more than it gains here): the Triton model "rerank"
    # rescores rerank_candidates retrieved chunks by their best sentence and the best top_k go to the
    # generator. Golden set, in-process, 10 candidates: dense fact-in-answer 0.952 -> 0.984 with "I don't
    # know" accuracy unchanged at 0.917 and recall@5 1.0; hybrid 0.984 -> 1.0 (IDK 0.75 unchanged); but
    # about 240 ms more per Ask on 2 CPU cores (a few ms without it).
    rerank: bool = False
    # How many retrieved chunks the reranker chooses top_k from (at least top_k are fetched).
    rerank_candidates: int = 10
    # Triton's gRPC address, reached only when rerank is on.
    triton_url: str = "127.0.0.1:8001"
    # The Triton model that scores the candidates (QUERY, TEXTS, TITLES -> SCORES).
    rerank_model: str = "rerank"
    rerank_timeout_seconds: float = 5.0
    # Shared tenant state: a Valkey (or Redis) URL, e.g. valkey://valkey:6379/0. Set, every replica
    # applies the rate limits and token quotas together and shares exact answers; empty, each
    # replica keeps its own in memory. See docs/limits.md.
    valkey_url: str = ""
    # Seconds one Valkey call may take (less when the request has less left); past it, the replica
    # serves with its own limits (fail-open) ...
    valkey_timeout_seconds: float = 0.25
    # ... and tries Valkey again, one request at a time, after this many seconds.
    valkey_retry_seconds: float = 1.0
    # Per-tenant limits (all replicas together with valkey_url, else per replica). Defaults for every tenant ...
    requests_per_minute: int = 600
    request_burst: int = 0  # 0: as many as requests_per_minute
    tokens_per_minute: int = 200_000
    tokens_per_day: int = 5_000_000
    # ... and overrides: "tenant-b:rpm=5,tpm=2000,tpd=100000,burst=2;other:tpm=1000".
    tenant_limits: str = ""
    # Answer caches (per tenant; exact answers shared through valkey_url when set).
    cache_ttl_seconds: float = 600.0
    cache_max_entries_per_tenant: int = 512
    semantic_cache_threshold: float = 0.95
    # After this gateway publishes a document change, answers are not cached until the change is
    # indexed (retriever document state) or this long has passed.
    cache_settle_seconds: float = 120.0
