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
    triton_timeout_seconds: float = Field(
        10.0, description="Longest wait in seconds for one Triton call (less when the request has less left)."
    )
    max_texts_per_request: int = Field(512, description="Most texts in one Embed request (INVALID_ARGUMENT beyond).")
    max_text_chars: int = Field(32_000, description="Longest text in characters (INVALID_ARGUMENT beyond).")
