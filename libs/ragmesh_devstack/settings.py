from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class StackSettings(BaseSettings):
    """Where the local stack keeps its state and which ports it uses."""

    model_config = SettingsConfigDict(env_prefix="RAGMESH_STACK_", extra="ignore")

    root: Path = Path.cwd()
    # A named instance keeps its state in .run/<instance>/ (the tests run one beside a dev stack).
    instance: str = ""
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    kafka_heap: str = "512m"
    otlp_grpc_port: int = 4317
    otlp_http_port: int = 4318
    jaeger_query_port: int = 16686
    jaeger_health_port: int = 13133
    triton_http_port: int = 8000
    triton_grpc_port: int = 8001
    triton_metrics_port: int = 8002
    # Valkey: the gateways' shared rate limits, token quotas and exact-answer cache.
    valkey_port: int = 6379
    gateway_port: int = 50051
    embedder_port: int = 50052
    retriever_port: int = 50053
    generator_port: int = 50054
    indexer_port: int = 50055
    gateway_metrics_port: int = 9451
    embedder_metrics_port: int = 9452
    retriever_metrics_port: int = 9453
    generator_metrics_port: int = 9454
    indexer_metrics_port: int = 9455
    start_timeout_seconds: float = 180.0
    # A supervisor process restarts a part that exits, or that stays not alive (its process works
    # but answers nothing: Triton's gRPC port) for the grace period.
    supervise: bool = True
    supervise_interval_seconds: float = 2.0
    supervise_grace_seconds: float = 20.0
    # Triton's own OpenTelemetry spans (queue, compute) in the caller's trace, from the start. Off:
    # tritonserver 2.51 crashes under sustained concurrent traced load (measured: signal 11 after
    # ~26,000 traced requests at 290/s; upstream fixed it in 25.05). Triton always starts with its
    # exporter configured at level OFF, so `ragmesh triton-tracing on` turns its spans on at run
    # time, for a while, without a restart.
    triton_tracing: bool = False
    # A local Hugging Face causal-LM folder: when set, Triton also loads the causal_lm model (with
    # the model-build venv as its Python environment) and GENERATOR_TRITON_MODEL can name it.
    causal_lm_model_dir: str = ""
    # The generator's model: "generator" (extractive), "llm" (SmolLM2 on llama.cpp) or "causal_lm".
    generator_model: str = "generator"
    # Load the llm model even when the generator uses another one (tests, bench).
    load_llm: bool = False

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
