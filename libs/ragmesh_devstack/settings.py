from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class StackSettings(BaseSettings):
    """Where the local stack keeps its state and which ports it uses."""

    model_config = SettingsConfigDict(env_prefix="RAGMESH_STACK_", extra="ignore")

    root: Path = Field(default_factory=Path.cwd, description="The checkout the stack runs from (its .run/ and .deps/).")
    instance: str = Field(
        "", description="A named instance keeps its state in .run/<instance>/ (the tests run one beside a dev stack)."
    )
    kafka_port: int = Field(9092, description="Kafka broker port.")
    kafka_controller_port: int = Field(9093, description="Kafka KRaft controller port.")
    kafka_heap: str = Field("512m", description="Kafka's JVM heap (-Xmx and -Xms).")
    otlp_grpc_port: int = Field(4317, description="Jaeger's OTLP/gRPC receiver port.")
    otlp_http_port: int = Field(4318, description="Jaeger's OTLP/HTTP receiver port (Triton exports here).")
    jaeger_query_port: int = Field(16686, description="Jaeger's query API and UI port.")
    jaeger_health_port: int = Field(13133, description="Jaeger's health check port.")
    triton_http_port: int = Field(8000, description="Triton's HTTP port.")
    triton_grpc_port: int = Field(8001, description="Triton's gRPC port (the services' inference calls).")
    triton_metrics_port: int = Field(8002, description="Triton's Prometheus metrics port.")
    valkey_port: int = Field(
        6379, description="Valkey port: the gateways' shared rate limits, token quotas and exact-answer cache."
    )
    gateway_port: int = Field(50051, description="The gateway's public gRPC port.")
    embedder_port: int = Field(50052, description="The embedder's gRPC port.")
    retriever_port: int = Field(50053, description="The retriever's gRPC port.")
    generator_port: int = Field(50054, description="The generator's gRPC port.")
    indexer_port: int = Field(50055, description="The indexer's gRPC (health) port.")
    gateway_metrics_port: int = Field(9451, description="The gateway's /metrics port.")
    embedder_metrics_port: int = Field(9452, description="The embedder's /metrics port.")
    retriever_metrics_port: int = Field(9453, description="The retriever's /metrics port.")
    generator_metrics_port: int = Field(9454, description="The generator's /metrics port.")
    indexer_metrics_port: int = Field(9455, description="The indexer's /metrics port.")
    start_timeout_seconds: float = Field(180.0, description="Longest wait in seconds for a part to become ready.")
    supervise: bool = Field(
        True,
        description="A supervisor process restarts a part that exits, or that stays not alive (its process works "
        "but answers nothing: Triton's gRPC port) for supervise_grace_seconds.",
    )
    supervise_interval_seconds: float = Field(2.0, description="Seconds between the supervisor's checks.")
    supervise_grace_seconds: float = Field(
        20.0, description="Seconds a part may stay not alive before the supervisor restarts it."
    )
    # Off by default: tritonserver 2.51 crashes under sustained concurrent traced load (measured:
    # signal 11 after ~26,000 traced requests at 290/s; upstream fixed it in 25.05).
    triton_tracing: bool = Field(
        False,
        description="Triton's own OpenTelemetry spans (queue, compute) in the caller's trace, from the start. "
        "Triton always starts with its exporter configured at level OFF, so `ragmesh triton-tracing on` turns "
        "its spans on at run time, for a while, without a restart.",
    )
    causal_lm_model_dir: str = Field(
        "",
        description="A local Hugging Face causal-LM folder: when set, Triton also loads the causal_lm model (with "
        "the model-build venv as its Python environment) and GENERATOR_TRITON_MODEL can name it.",
    )
    generator_model: str = Field(
        "generator",
        description='The generator\'s model: "generator" (extractive), "llm" (SmolLM2 on llama.cpp) or "causal_lm".',
    )
    load_llm: bool = Field(
        False, description="Load the llm model even when the generator uses another one (tests, bench)."
    )

    @property
    def llm_enabled(self) -> bool:
        return self.load_llm or self.generator_model == "llm"

    @property
    def run_dir(self) -> Path:
        return self.root / ".run" / self.instance if self.instance else self.root / ".run"

    @property
    def deps_dir(self) -> Path:
        """Links made by `make setup` to the cached Kafka jars, Jaeger binary, Triton backend, models."""
        return self.root / ".deps"
