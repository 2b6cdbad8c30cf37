from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from ragmesh_kit.settings import ServiceSettings


class EmbedderSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="EMBEDDER_", extra="ignore")

    service_name: str = "embedder"
    port: int = 50052
    metrics_port: int = 9452
    triton_url: str = "127.0.0.1:8001"
    # Triton's Prometheus endpoint, relayed through this service's /metrics ("" turns it off).
    triton_metrics_url: str = "http://127.0.0.1:8002/metrics"
    triton_model: str = "minilm"
    triton_timeout_seconds: float = 10.0
    max_texts_per_request: int = 512
    max_text_chars: int = 32_000
