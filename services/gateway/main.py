"""Wires the gateway: gRPC servicer -> use cases -> embedder/retriever/generator clients, Kafka."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import grpc
from opentelemetry.sdk.trace import TracerProvider

from ragmesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ragmesh_kit.channels import health_check, open_channel
from ragmesh_kit.metrics import ServiceMetrics
from ragmesh_kit.runner import run_service
from ragmesh_kit.server import GrpcService
from ragmesh_kit.service_clients import EmbedderClient, GeneratorClient, RetrieverClient
from ragmesh_kit.tls import client_tls
from ragmesh_kit.triton import TritonClient
from services.gateway.adapters.kafka_publisher import KafkaDocumentPublisher
from services.gateway.adapters.metrics import AskMetrics, SharedStateMetrics
from services.gateway.adapters.triton_reranker import TritonReranker
from services.gateway.adapters.valkey_state import ValkeyState
from services.gateway.app.answer_cache import AnswerCache
from services.gateway.app.ask import AskLimits, AskQuestion
from services.gateway.app.auth import ApiKeyAuthenticator, parse_key_entries
from services.gateway.app.documents import DocumentIntake
from services.gateway.app.generations import IndexGenerations
from services.gateway.app.quotas import QuotaBook, TenantLimits
from services.gateway.app.search import SearchChunks
from services.gateway.app.shared_state import Answers, FailOpen, FailOpenGenerations, MemoryGenerations, TenantQuotas
from services.gateway.entrypoints.grpc_servicer import GatewayServicer
from services.gateway.settings import GatewaySettings


def load_key_entries(settings: GatewaySettings) -> dict[str, str]:
    lines: list[str] = []
    if settings.api_keys_file:
        lines.extend(Path(settings.api_keys_file).read_text().splitlines())
    return {**parse_key_entries(lines), **settings.api_keys}


def quota_book(settings: GatewaySettings) -> QuotaBook:
    defaults = TenantLimits(
        rpm=settings.requests_per_minute,
        tpm=settings.tokens_per_minute,
        tpd=settings.tokens_per_day,
        burst=settings.request_burst,
    )
    overrides = {
        tenant: dataclasses.replace(defaults, **given.model_dump(exclude_none=True))
        for tenant, given in settings.tenant_limits.items()
    }
    return QuotaBook(defaults, overrides)


async def build(settings: GatewaySettings, provider: TracerProvider) -> GrpcService:
    metrics = ServiceMetrics(settings.service_name)
    checked = settings.client_health_checks
    embedder_channel = open_channel(settings.embedder_addr, client_tls(settings, "embedder"), health_checked=checked)
    retriever_channel = open_channel(settings.retriever_addr, client_tls(settings, "retriever"), health_checked=checked)
    generator_channel = open_channel(settings.generator_addr, client_tls(settings, "generator"), health_checked=checked)
    publisher = KafkaDocumentPublisher(
        settings.kafka_bootstrap,
        settings.documents_topic,
        settings.publish_timeout_seconds,
        provider.get_tracer("ragmesh.gateway"),
    )
    retriever = RetrieverClient(retriever_channel, settings.search_timeout_seconds)
    embedder = EmbedderClient(embedder_channel, settings.embed_timeout_seconds)
    limits = AskLimits(
        default_top_k=settings.default_top_k,
        max_top_k=settings.max_top_k,
        max_question_chars=settings.max_question_chars,
        default_min_score=settings.default_min_score,
        max_chunks_per_document=settings.max_chunks_per_document,
        retrieval_mode=settings.ask_retrieval_mode,
        rerank_candidates=settings.rerank_candidates,
    )
    # Triton is reached only when reranking is on.
    triton_channel = open_channel(settings.triton_url, health_checked=False) if settings.rerank else None
    reranker = (
        TritonReranker(TritonClient(triton_channel, settings.rerank_timeout_seconds), settings.rerank_model)
        if triton_channel is not None
        else None
    )
    observer = AskMetrics(metrics)
    local_answers = AnswerCache(
        settings.cache_ttl_seconds, settings.semantic_cache_threshold, settings.cache_max_entries_per_tenant
    )
    shared: ValkeyState | None = None
    if settings.valkey_url:
        shared = ValkeyState(settings.valkey_url, settings.valkey_timeout_seconds)
        fail_open = FailOpen(
            SharedStateMetrics(metrics), settings.valkey_timeout_seconds, settings.valkey_retry_seconds
        )
        quotas = TenantQuotas(quota_book(settings), shared, fail_open)
        answers = Answers(local_answers, shared, fail_open)
        generations = IndexGenerations(retriever, settings.cache_settle_seconds, FailOpenGenerations(shared, fail_open))
    else:
        quotas = TenantQuotas(quota_book(settings))
        answers = Answers(local_answers)
        generations = IndexGenerations(retriever, settings.cache_settle_seconds, MemoryGenerations())
    # Ask and Search draw on the same per-tenant limits (shared through Valkey when it is set).
    ask = AskQuestion(
        embedder,
        retriever,
        GeneratorClient(generator_channel, settings.generate_timeout_seconds),
        limits,
        quotas,
        answers,
        generations,
        observer,
        reranker=reranker,
    )
    servicer = GatewayServicer(
        ApiKeyAuthenticator(load_key_entries(settings)),
        ask,
        DocumentIntake(publisher, retriever, generations, settings.max_document_bytes),
        SearchChunks(embedder, retriever, limits, quotas, observer),
    )

    def register(server: grpc.aio.Server) -> None:
        gateway_pb2_grpc.add_GatewayServiceServicer_to_server(servicer, server)

    async def close_all() -> None:
        await publisher.close()
        for channel in (embedder_channel, retriever_channel, generator_channel, triton_channel):
            if channel is not None:
                await channel.close()
        if shared is not None:
            await shared.close()

    return GrpcService(
        settings=settings,
        tracer_provider=provider,
        metrics=metrics,
        service_names=[gateway_pb2.DESCRIPTOR.services_by_name["GatewayService"].full_name],
        register=register,
        readiness={
            "kafka": publisher.ready,
            "embedder": health_check(embedder_channel),
            "retriever": health_check(retriever_channel),
            "generator": health_check(generator_channel),
            **({"reranker": reranker.ready} if reranker is not None else {}),
        },
        shutdown_hooks=[close_all],
    )


def main() -> None:
    settings = GatewaySettings()
    run_service(settings, lambda provider: build(settings, provider))


if __name__ == "__main__":
    main()
