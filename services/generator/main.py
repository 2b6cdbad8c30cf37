"""Wires the generator: gRPC servicer -> GenerateAnswer -> Triton text generation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from opentelemetry.sdk.trace import TracerProvider

from ragmesh.generator.v1 import generator_pb2, generator_pb2_grpc
from ragmesh_kit.channels import open_channel
from ragmesh_kit.metrics import ServiceMetrics
from ragmesh_kit.runner import run_service
from ragmesh_kit.server import GrpcService
from ragmesh_kit.tokens import TokenCounter
from ragmesh_kit.triton import TritonClient
from services.generator.adapters.extractive_text_generation import EXTRACTIVE_MODEL, ExtractiveTextGeneration
from services.generator.adapters.metrics import GenerationMetrics
from services.generator.adapters.triton_text_generation import TritonTextGeneration
from services.generator.app.generate_answer import GenerateAnswer, GenerationLimits, GroundingPolicy
from services.generator.app.grounding import GroundingGuard
from services.generator.app.ports import TextGenerationModel
from services.generator.entrypoints.grpc_servicer import GeneratorServicer
from services.generator.settings import GeneratorSettings


async def build(settings: GeneratorSettings, provider: TracerProvider) -> GrpcService:
    metrics = ServiceMetrics(settings.service_name)
    # Triton serves no health watch: its channel is not health-checked (readiness asks ModelReady).
    channel = open_channel(settings.triton_url, health_checked=False)
    client = TritonClient(channel, settings.triton_timeout_seconds)

    def text_model(name: str, sampling: dict[str, Any]) -> TextGenerationModel:
        if settings.extractive_in_process and name == EXTRACTIVE_MODEL:
            return ExtractiveTextGeneration(sampling)
        return TritonTextGeneration(client, name, sampling)

    model = text_model(settings.triton_model, settings.sampling_parameters)
    limits = GenerationLimits(
        default_max_context_tokens=settings.default_max_context_tokens,
        max_context_tokens_limit=settings.max_context_tokens_limit,
        max_question_tokens=settings.max_question_tokens,
        default_max_output_tokens=settings.default_max_output_tokens,
        max_output_tokens_limit=settings.max_output_tokens_limit,
        max_context_chunks=settings.max_context_chunks,
        near_duplicate_jaccard=settings.near_duplicate_jaccard,
        redact_pii=settings.redact_prompts,
    )
    readiness: dict[str, Callable[[], Awaitable[bool]]] = {}
    if isinstance(model, TritonTextGeneration):
        readiness["triton"] = model.ready
    grounding = None
    if settings.grounding_check and settings.triton_model != settings.fallback_model:
        fallback = text_model(settings.fallback_model, {})
        grounding = GroundingPolicy(GroundingGuard(settings.grounding_min_support), fallback)
        if isinstance(fallback, TritonTextGeneration):
            readiness["triton_fallback"] = fallback.ready
    answer = GenerateAnswer(
        model,
        TokenCounter(settings.tokenizer_encoding),
        limits,
        GenerationMetrics(metrics, settings.triton_model),
        grounding,
    )
    servicer = GeneratorServicer(answer)

    def register(server: grpc.aio.Server) -> None:
        generator_pb2_grpc.add_GeneratorServiceServicer_to_server(servicer, server)

    return GrpcService(
        settings=settings,
        tracer_provider=provider,
        metrics=metrics,
        service_names=[generator_pb2.DESCRIPTOR.services_by_name["GeneratorService"].full_name],
        register=register,
        readiness=readiness,
        shutdown_hooks=[channel.close],
    )


def main() -> None:
    settings = GeneratorSettings()
    run_service(settings, lambda provider: build(settings, provider))


if __name__ == "__main__":
    main()
