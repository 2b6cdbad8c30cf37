"""Wires the indexer: Kafka consumer -> IndexBatch -> embedder and retriever clients."""

from __future__ import annotations

import grpc
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from opentelemetry.sdk.trace import TracerProvider

from ragmesh_kit.channels import health_check, open_channel
from ragmesh_kit.metrics import ServiceMetrics
from ragmesh_kit.runner import run_service
from ragmesh_kit.server import GrpcService
from ragmesh_kit.service_clients import EmbedderClient, RetrieverClient
from ragmesh_kit.tls import client_tls
from ragmesh_kit.tokens import TokenCounter
from services.indexer.adapters.dead_letters import DeadLetterPublisher
from services.indexer.adapters.parsers import document_parsers
from services.indexer.app.chunker import Chunker, ChunkingPolicy
from services.indexer.app.document_chunks import DocumentChunker
from services.indexer.app.index_batch import BatchOptions, IndexBatch
from services.indexer.entrypoints.consumer_metrics import ConsumerMetrics
from services.indexer.entrypoints.kafka_consumer import DocumentEventConsumer
from services.indexer.settings import IndexerSettings


async def build(settings: IndexerSettings, provider: TracerProvider) -> GrpcService:
    metrics = ServiceMetrics(settings.service_name)
    checked = settings.client_health_checks
    embedder_channel = open_channel(
        settings.embedder_addr, provider, client_tls(settings, "embedder"), health_checked=checked
    )
    retriever_channel = open_channel(
        settings.retriever_addr, provider, client_tls(settings, "retriever"), health_checked=checked
    )
    chunker = Chunker(
        TokenCounter(settings.tokenizer_encoding),
        ChunkingPolicy(settings.chunk_tokens, settings.chunk_overlap_tokens),
    )
    index_batch = IndexBatch(
        DocumentChunker(chunker, document_parsers()),
        EmbedderClient(embedder_channel, settings.embed_timeout_seconds),
        RetrieverClient(retriever_channel, settings.upsert_timeout_seconds),
        BatchOptions(
            embed_batch=settings.embed_batch,
            embed_concurrency=settings.embed_concurrency,
            write_concurrency=settings.write_concurrency,
            max_chars=settings.max_document_chars,
            max_bytes=settings.max_document_bytes,
            max_chunks_in_flight=settings.max_chunks_in_flight,
        ),
    )
    consumer = DocumentEventConsumer(
        AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap,
            group_id=settings.consumer_group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=settings.max_poll_records,
            max_partition_fetch_bytes=settings.max_partition_fetch_bytes,
            max_poll_interval_ms=int(settings.max_poll_interval_seconds * 1000),
            rebalance_timeout_ms=int(settings.rebalance_timeout_seconds * 1000),
        ),
        settings.documents_topic,
        settings.consumer_group,
        DeadLetterPublisher(
            AIOKafkaProducer(
                bootstrap_servers=settings.kafka_bootstrap,
                acks="all",
                enable_idempotence=True,
                compression_type="gzip",
                max_request_size=settings.dead_letter_max_bytes,
            ),
            settings.dead_letter_topic,
        ),
        index_batch,
        provider.get_tracer("ragmesh.indexer"),
        ConsumerMetrics(metrics),
        max_batch=settings.max_poll_records,
        retry_initial_seconds=settings.retry_initial_seconds,
        retry_max_seconds=settings.retry_max_seconds,
        # Leaves the rebalance a margin to finish after the batch in hand is committed.
        revoke_wait_seconds=settings.rebalance_timeout_seconds / 2,
    )

    def register(server: grpc.aio.Server) -> None:
        """Only health and reflection: the indexer's work comes from Kafka."""

    async def close_channels() -> None:
        await embedder_channel.close()
        await retriever_channel.close()

    return GrpcService(
        settings=settings,
        tracer_provider=provider,
        metrics=metrics,
        service_names=[],
        register=register,
        readiness={
            "kafka": consumer.ready,
            "embedder": health_check(embedder_channel),
            "retriever": health_check(retriever_channel),
        },
        background=[consumer.run],
        shutdown_hooks=[consumer.stop, close_channels],
    )


def main() -> None:
    settings = IndexerSettings()
    run_service(settings, lambda provider: build(settings, provider))


if __name__ == "__main__":
    main()
