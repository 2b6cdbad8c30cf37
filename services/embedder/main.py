"""Wires the embedder: gRPC servicer -> EmbedTexts -> Triton model."""

from __future__ import annotations

import grpc
from opentelemetry.sdk.trace import TracerProvider

from ragmesh.embedder.v1 import embedder_pb2, embedder_pb2_grpc
from ragmesh_kit.channels import open_channel
from ragmesh_kit.metrics import ServiceMetrics
from ragmesh_kit.runner import run_service
from ragmesh_kit.server import GrpcService
from ragmesh_kit.triton import TritonClient
from ragmesh_kit.triton_metrics import TritonMetricsRelay
from services.embedder.adapters.triton_embedding_model import TritonEmbeddingModel
from services.embedder.app.embed_texts import EmbedTexts
from services.embedder.entrypoints.grpc_servicer import EmbedderServicer
from services.embedder.settings import EmbedderSettings


async def build(settings: EmbedderSettings, provider: TracerProvider) -> GrpcService:
    metrics = ServiceMetrics(settings.service_name)
    channel = open_channel(settings.triton_url, health_checked=False)
    model = TritonEmbeddingModel(TritonClient(channel, settings.triton_timeout_seconds), settings.triton_model)
    texts_per_request = metrics.histogram(
        "ragmesh_embedder_texts_per_request",
        "Texts per Embed call (Triton's dynamic batcher merges calls further).",
        buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
    )
    if settings.triton_metrics_url:
        metrics.registry.register(TritonMetricsRelay(settings.triton_metrics_url, [settings.triton_model]))
    servicer = EmbedderServicer(
        EmbedTexts(model, settings.max_texts_per_request, settings.max_text_chars, texts_per_request.observe)
    )

    def register(server: grpc.aio.Server) -> None:
        embedder_pb2_grpc.add_EmbedderServiceServicer_to_server(servicer, server)

    return GrpcService(
        settings=settings,
        tracer_provider=provider,
        metrics=metrics,
        service_names=[embedder_pb2.DESCRIPTOR.services_by_name["EmbedderService"].full_name],
        register=register,
        readiness={"triton": model.ready},
        shutdown_hooks=[channel.close],
    )


def main() -> None:
    settings = EmbedderSettings()
    run_service(settings, lambda provider: build(settings, provider))


if __name__ == "__main__":
    main()
