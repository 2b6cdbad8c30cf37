from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from ragmesh_kit.settings import ServiceSettings


class EmbedderSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="EMBEDDER_", extra="ignore")

    service_name: str = Field("embedder", description="Service name in traces, logs and metrics.")
    port: int = Field(50052, description="gRPC port (EmbedderService, grpc.health.v1 and reflection).")
    metrics_port: int = Field(9452, description="Port of the Prometheus /metrics endpoint; 0 turns it off.")
    triton_url: str = Field("127.0.0.1:8001", description="Triton's gRPC address (host:port).")
    triton_metrics_url: str = Field(
        "http://127.0.0.1:8002/metrics",
        description="Triton's Prometheus endpoint, relayed through this service's /metrics (empty turns it off).",
    )
    triton_model: str = Field("minilm", description="The Triton embedding model (TEXT -> EMBEDDING).")
    # A question's embedding is bounded by its caller's deadline (the gateway's 5 s), so this cap only
    # matters for the indexer's batches: at 10 s, a CPU-starved Triton answered none of them in time,
    # kept computing the abandoned ones, and the retries never caught up (indexing stalled for good).
    triton_timeout_seconds: float = Field(
        30.0, description="Longest wait in seconds for one Triton call (less when the request has less left)."
    )
    max_texts_per_request: int = Field(512, description="Most texts in one Embed request (INVALID_ARGUMENT beyond).")
    max_text_chars: int = Field(32_000, description="Longest text in characters (INVALID_ARGUMENT beyond).")
