"""Base of the one settings class each service has; only settings classes read the environment."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Settings every service shares. Subclasses set ``env_prefix`` and add their own fields."""

    model_config = SettingsConfigDict(env_prefix="RAGMESH_", extra="ignore")

    service_name: str = "ragmesh"
    host: str = "127.0.0.1"
    port: int = 0
    # Prometheus /metrics endpoint; 0 turns it off.
    metrics_port: int = 0
    log_level: str = "INFO"
    # OTLP/gRPC endpoint of the trace store (Jaeger), shared by all services; empty disables export.
    otlp_endpoint: str = Field(
        default="http://127.0.0.1:4317",
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT"),
    )
    # Seconds a SIGTERM waits for in-flight RPCs before cancelling them.
    drain_seconds: float = 10.0
    # Declared limits: calls in flight beyond this are refused at once with RESOURCE_EXHAUSTED
    # (overload never queues without bound), and requests larger than max_request_bytes too.
    max_concurrent_rpcs: int = 256
    max_request_bytes: int = 8 * 1024 * 1024
    # Seconds between dependency checks that drive the health status.
    health_interval_seconds: float = 2.0

    @property
    def listen_address(self) -> str:
        return f"{self.host}:{self.port}"
