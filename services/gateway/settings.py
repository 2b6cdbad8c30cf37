from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from ragmesh_kit.document_events import DOCUMENTS_TOPIC
from ragmesh_kit.domain import DENSE, RetrievalMode
from ragmesh_kit.settings import ServiceSettings, json_or_earlier

KeyDigest = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$", to_lower=True)]
Tenant = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]

API_KEYS_FORMAT = '{"<sha256 hex of the key>": "<tenant>", ...}'
TENANT_LIMITS_FORMAT = '{"<tenant>": {"rpm": 5, "tpm": 2000, "tpd": 100000, "burst": 2}, ...}'


class TenantLimitOverrides(BaseModel):
    """One tenant's limits; a limit left out keeps the gateway-wide default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rpm: int | None = Field(None, ge=0, description="Requests per minute.")
    tpm: int | None = Field(None, ge=0, description="Tokens per minute.")
    tpd: int | None = Field(None, ge=0, description="Tokens per day.")
    burst: int | None = Field(None, ge=0, description="Request burst (0: as many as rpm).")


def _legacy_api_keys(text: str) -> dict[str, str]:
    """The earlier form "<sha256 hex>:<tenant>,...", still accepted."""
    entries: dict[str, str] = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        digest, colon, tenant = entry.partition(":")
        if not colon:
            raise ValueError(f"bad API key entry {entry[:16]!r}...: expected {API_KEYS_FORMAT}")
        entries[digest.strip()] = tenant
    return entries


_LEGACY_LIMIT = re.compile(r"^\s*([^:\s]+)\s*:\s*(.+?)\s*$")


def _legacy_tenant_limits(text: str) -> dict[str, dict[str, str]]:
    """The earlier form "tenant-b:rpm=5,tpm=2000;other:burst=2" (';' or newlines between tenants)."""
    limits: dict[str, dict[str, str]] = {}
    for entry in filter(str.strip, re.split(r"[;\n]", text)):
        match = _LEGACY_LIMIT.match(entry)
        if match is None:
            raise ValueError(f"bad tenant limits entry {entry.strip()!r}: expected {TENANT_LIMITS_FORMAT}")
        pairs = (pair.partition("=") for pair in match.group(2).split(","))
        limits[match.group(1)] = {key.strip(): value.strip() for key, _, value in pairs}
    return limits


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    service_name: str = Field("gateway", description="Service name in traces, logs and metrics.")
    port: int = Field(50051, description="Public gRPC port (GatewayService, grpc.health.v1 and reflection).")
    metrics_port: int = Field(9451, description="Port of the Prometheus /metrics endpoint; 0 turns it off.")
    embedder_addr: str = Field("127.0.0.1:50052", description="host:port of the embedder service.")
    retriever_addr: str = Field("127.0.0.1:50053", description="host:port of the retriever service.")
    generator_addr: str = Field("127.0.0.1:50054", description="host:port of the generator service.")
    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers (host:port, comma separated).")
    documents_topic: str = Field(DOCUMENTS_TOPIC, description="Kafka topic the gateway publishes DocumentEvents to.")
    api_keys_file: str = Field(
        "", description='File of API keys, stored hashed: lines "<sha256 hex of key> <tenant id>" (# comments).'
    )
    api_keys: Annotated[dict[KeyDigest, Tenant], NoDecode] = Field(
        default_factory=dict,
        description=f"More API keys, stored hashed, as JSON: {API_KEYS_FORMAT} (the earlier "
        '"<sha256 hex>:<tenant>,..." is still accepted).',
    )
    embed_timeout_seconds: float = Field(
        5.0, description="Longest wait in seconds for one embedder call (less when the request has less left)."
    )
    search_timeout_seconds: float = Field(
        5.0, description="Longest wait in seconds for one retriever call (less when the request has less left)."
    )
    generate_timeout_seconds: float = Field(
        60.0, description="Longest wait in seconds for one generator call (less when the request has less left)."
    )
    publish_timeout_seconds: float = Field(
        10.0, description="Longest wait in seconds for Kafka to acknowledge a published document change."
    )
    default_top_k: int = Field(5, description="Chunks used for an answer when a request leaves top_k 0.")
    max_top_k: int = Field(50, description="Largest top_k a request may ask for (INVALID_ARGUMENT beyond).")
    max_question_chars: int = Field(4000, description="Longest question in characters (INVALID_ARGUMENT beyond).")
    # Events carry documents, so the topic's max.message.bytes (ragmesh_kit.document_events.MAX_EVENT_BYTES)
    # must stay above it.
    max_document_bytes: int = Field(
        2 * 1024 * 1024,
        description="Largest document: UTF-8 bytes of its text, or its content's bytes (INVALID_ARGUMENT beyond).",
    )
    # MiniLM scores unrelated text around 0-0.15 and a chunk that answers the question well above 0.3.
    default_min_score: float = Field(
        0.15, description="Chunks below this cosine score are not used when a request sends min_score 0."
    )
    max_chunks_per_document: int = Field(
        3,
        description="At most this many chunks of one document per answer, so one long document cannot crowd "
        "out the others (0: no limit).",
    )
    # Measured on the golden set with the extractive generator: dense answers 0.952 of the facts and
    # says "I don't know" to 0.917 of the unanswerable questions; hybrid 0.984 and 0.75 (term matches
    # give it something to quote), 0.921 and 0.917 with a stricter relevance threshold.
    ask_retrieval_mode: RetrievalMode = Field(
        DENSE,
        description='Retrieval for Ask: "dense" or "hybrid" (dense + term weights, fused). Search defaults to hybrid.',
    )
    # Golden set, in-process, 10 candidates: dense fact-in-answer 0.952 -> 0.984 with "I don't know"
    # accuracy unchanged at 0.917 and recall@5 1.0; hybrid 0.984 -> 1.0 (IDK 0.75 unchanged); but about
    # 240 ms more per Ask on 2 CPU cores (a few ms without it), so it is off by default.
    rerank: bool = Field(
        False,
        description="Reranking for Ask: the Triton model rerank_model rescores rerank_candidates retrieved "
        "chunks by their best sentence and the best top_k go to the generator.",
    )
    rerank_candidates: int = Field(
        10, description="How many retrieved chunks the reranker chooses top_k from (at least top_k are fetched)."
    )
    triton_url: str = Field("127.0.0.1:8001", description="Triton's gRPC address, reached only when rerank is on.")
    rerank_model: str = Field(
        "rerank", description="The Triton model that scores the candidates (QUERY, TEXTS, TITLES -> SCORES)."
    )
    rerank_timeout_seconds: float = Field(5.0, description="Longest wait in seconds for one rerank call.")
    valkey_url: str = Field(
        "",
        description="Shared tenant state: a Valkey (or Redis) URL, e.g. valkey://valkey:6379/0. Set, every "
        "replica applies the rate limits and token quotas together and shares exact answers; empty, each "
        "replica keeps its own in memory (docs/limits.md).",
    )
    valkey_timeout_seconds: float = Field(
        0.25,
        description="Seconds one Valkey call may take (less when the request has less left); past it, the "
        "replica serves with its own limits (fail-open).",
    )
    valkey_retry_seconds: float = Field(
        1.0, description="After a Valkey failure, seconds before one request tries Valkey again."
    )
    requests_per_minute: int = Field(
        600,
        description="Requests per minute per tenant (all replicas together with valkey_url, else per replica).",
    )
    request_burst: int = Field(0, description="Requests a tenant may send at once (0: as many as requests_per_minute).")
    tokens_per_minute: int = Field(200_000, description="Tokens (prompt + completion) per minute per tenant.")
    tokens_per_day: int = Field(5_000_000, description="Tokens (prompt + completion) per UTC day per tenant.")
    tenant_limits: Annotated[dict[Tenant, TenantLimitOverrides], NoDecode] = Field(
        default_factory=dict,
        description=f"Per-tenant overrides of the four limits above, as JSON: {TENANT_LIMITS_FORMAT}; a limit "
        'left out keeps the default (the earlier "tenant-b:rpm=5,tpm=2000;other:burst=2" is still accepted).',
    )
    cache_ttl_seconds: float = Field(600.0, description="Seconds an answer stays in the per-tenant answer caches.")
    cache_max_entries_per_tenant: int = Field(512, description="Answers kept per tenant (least recently used go).")
    semantic_cache_threshold: float = Field(
        0.95, description="Cosine similarity of two questions at or above which a cached answer serves the new one."
    )
    cache_settle_seconds: float = Field(
        120.0,
        description="After this gateway publishes a document change, answers are not cached until the change "
        "is indexed (retriever document state) or this long has passed.",
    )

    @field_validator("api_keys", mode="before")
    @classmethod
    def _api_keys(cls, value: Any) -> Any:
        return json_or_earlier(value, "api_keys", API_KEYS_FORMAT, _legacy_api_keys)

    @field_validator("tenant_limits", mode="before")
    @classmethod
    def _tenant_limits(cls, value: Any) -> Any:
        return json_or_earlier(value, "tenant_limits", TENANT_LIMITS_FORMAT, _legacy_tenant_limits)
