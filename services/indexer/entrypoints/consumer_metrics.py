"""The indexer's Prometheus series, registered on the service's ``ServiceMetrics``."""

from __future__ import annotations

from ragmesh_kit.metrics import ServiceMetrics

BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class ConsumerMetrics:
    def __init__(self, metrics: ServiceMetrics) -> None:
        self.lag = metrics.gauge(
            "ragmesh_indexer_consumer_lag_messages",
            "Messages of the partition not yet processed (high watermark minus next offset).",
            ["topic", "partition"],
        )
        self.batch_messages = metrics.histogram(
            "ragmesh_indexer_batch_messages", "Messages per processed batch.", buckets=BATCH_BUCKETS
        )
        self.batch_chunks = metrics.histogram(
            "ragmesh_indexer_batch_chunks", "Chunks embedded and written per batch.", buckets=BATCH_BUCKETS
        )
        self.batch_seconds = metrics.histogram("ragmesh_indexer_batch_seconds", "Time to process a batch.")
        self.documents = metrics.counter(
            "ragmesh_indexer_documents_total",
            "Document events by outcome (indexed, deleted, ignored, rejected).",
            ["outcome"],
        )
        self.chunks = metrics.counter("ragmesh_indexer_chunks_indexed_total", "Chunks embedded and written.")
        self.dead_letters = metrics.counter(
            "ragmesh_indexer_dead_letters_total", "Messages sent to the dead-letter topic.", ["stage"]
        )
        self.retries = metrics.counter(
            "ragmesh_indexer_batch_retries_total", "Batch attempts that failed transiently and were retried."
        )
