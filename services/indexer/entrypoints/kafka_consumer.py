"""Consumes DocumentEvents in batches: Kafka records in, one ``ProcessBatch`` call (the policy:
decoding, retries, dead-letter decisions), commit when it says the batch is finished.

Each ``getmany`` (at most ``max_batch`` records, so bounded work is in memory; aiokafka prefetches at
most one fetch per partition meanwhile) becomes one ``IndexBatch`` call; offsets are committed only
after the whole batch is written and its poison messages are in the dead-letter topic
(at-least-once; the index writes are idempotent, so the effect is exactly once). Transient failures
retry the batch with backoff without moving the offset. One span per message, a child of the
producer's span. A rebalance waits (``on_partitions_revoked``) for the batch in hand to finish and
commit before the partitions move; SIGTERM finishes and commits the batch in hand, then leaves the
group. A batch still retrying when the partitions must go is abandoned uncommitted: its messages are
redelivered to the new owner.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import AbstractContextManager

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from opentelemetry import trace
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode

from ragmesh_kit.telemetry import context_from_kafka_headers
from services.indexer.adapters.dead_letters import DeadLetterPublisher
from services.indexer.app.process_batch import BatchResult, DeadLetterStage, IndexHandler, ProcessBatch, RetryPolicy
from services.indexer.entrypoints.consumer_metrics import ConsumerMetrics

_log = logging.getLogger(__name__)


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, owner: DocumentEventConsumer) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._owner.partitions_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        _log.info("partitions assigned", extra={"fields": {"partitions": sorted(tp.partition for tp in assigned)}})


class DocumentEventConsumer:
    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        topic: str,
        group: str,
        dead_letters: DeadLetterPublisher,
        index: IndexHandler,
        tracer: trace.Tracer,
        metrics: ConsumerMetrics,
        *,
        max_batch: int,
        retry_initial_seconds: float,
        retry_max_seconds: float,
        revoke_wait_seconds: float,
    ) -> None:
        self._consumer = consumer
        self._topic = topic
        self._group = group
        self._dead_letters = dead_letters
        self._tracer = tracer
        self._metrics = metrics
        self._max_batch = max_batch
        self._revoke_wait = revoke_wait_seconds
        self._busy = asyncio.Lock()  # held while a batch is processed and committed
        self._stopping = False
        self._interrupt = asyncio.Event()  # ends retry waits: stopping, or partitions taken away
        self._process_batch = ProcessBatch(
            index,
            RetryPolicy(retry_initial_seconds, retry_max_seconds),
            self._interrupt,
            on_retry=lambda reason, wait: metrics.retries.inc(),
        )
        self._running = False
        self._finished = asyncio.Event()
        self._lag_labels: set[tuple[str, str]] = set()

    async def ready(self) -> bool:
        return self._running

    async def run(self) -> None:
        await self._dead_letters.start()
        self._consumer.subscribe([self._topic], listener=_Rebalance(self))
        await self._consumer.start()
        self._running = True
        try:
            while not self._stopping:
                batches = await self._consumer.getmany(timeout_ms=500, max_records=self._max_batch)
                if batches and not self._stopping:
                    async with self._busy:
                        if not self._stopping:
                            self._interrupt.clear()
                        await self._process(batches)
                await self._report_lag()
        finally:
            self._running = False
            self._finished.set()

    async def stop(self) -> None:
        """Finishes (or, while it retries, abandons) the batch in hand, commits it, leaves the group."""
        self._stopping = True
        self._interrupt.set()
        if self._running:
            await self._finished.wait()
        await self._consumer.stop()
        await self._dead_letters.stop()

    async def partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Runs inside the rebalance, before the partitions move: waits for the batch in hand to
        commit, so the next owner starts after it instead of redoing it."""
        try:
            await asyncio.wait_for(self._busy.acquire(), timeout=self._revoke_wait)
        except TimeoutError:
            _log.warning("batch still retrying at rebalance; abandoned uncommitted (it will be redelivered)")
            self._interrupt.set()
            await self._busy.acquire()
        self._busy.release()
        for tp in revoked:
            labels = (tp.topic, str(tp.partition))
            if labels in self._lag_labels:
                self._lag_labels.discard(labels)
                self._metrics.lag.remove(*labels)  # another indexer reports this partition now
        _log.info("partitions revoked", extra={"fields": {"partitions": sorted(tp.partition for tp in revoked)}})

    async def _process(self, batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        started = time.perf_counter()
        records = [record for partition_records in batches.values() for record in partition_records]
        spans = [self._span(record) for record in records]
        # The batch is one unit of work across many traces: its own span, linked to every message's.
        batch_span = self._tracer.start_span(
            f"{self._topic} batch",
            links=[Link(span.get_span_context()) for span in spans],
            attributes={"messaging.system": "kafka", "messaging.batch.message_count": len(records)},
        )

        def scope(position: int) -> AbstractContextManager[object]:
            return trace.use_span(spans[position], end_on_exit=False)

        async def send_dead_letter(position: int, stage: DeadLetterStage, reason: str) -> None:
            record = records[position]
            await self._dead_letters.publish(record, stage.value, reason)
            self._metrics.dead_letters.labels(stage.value).inc()
            fields = {"reason": reason, "stage": stage.value, "partition": record.partition, "offset": record.offset}
            _log.warning("message dead-lettered", extra={"fields": fields})

        result = await self._process_batch([record.value or b"" for record in records], scope, send_dead_letter)
        if result.finished:
            await self._commit(batches)
        self._finish(records, spans, result, started)
        batch_span.end()

    async def _commit(self, batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        assigned = self._consumer.assignment()
        offsets = {tp: records[-1].offset + 1 for tp, records in batches.items() if records and tp in assigned}
        try:
            if offsets:
                await self._consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError, KafkaError) as error:
            # The group moved on (or the broker is away); these messages are redone (idempotently).
            _log.warning("commit failed after a rebalance", extra={"fields": {"reason": str(error)}})

    def _span(self, record: ConsumerRecord) -> Span:
        # Our own span, not opentelemetry-instrumentation-aiokafka's: its consumer span ends when
        # getmany returns, so the processing (embed, upsert) would not sit under the producer's trace.
        # A child of the producer's span: one trace per submitted document, from the gateway call to
        # the last upsert. (No extra link to the same span: Jaeger folds a link to the parent into the
        # parent reference and loses the parent-child edge.)
        span = self._tracer.start_span(
            f"{record.topic} process", context=context_from_kafka_headers(record.headers), kind=SpanKind.CONSUMER
        )
        span.set_attribute("messaging.system", "kafka")
        span.set_attribute("messaging.operation.type", "process")
        span.set_attribute("messaging.destination.name", record.topic)
        span.set_attribute("messaging.destination.partition.id", str(record.partition))
        span.set_attribute("messaging.kafka.offset", record.offset)
        span.set_attribute("messaging.consumer.group.name", self._group)
        return span

    def _finish(self, records: list[ConsumerRecord], spans: list[Span], result: BatchResult, started: float) -> None:
        """Ends the spans and records metrics and one log line for the batch."""
        for position, span in enumerate(spans):
            command = result.commands.get(position)
            if command is not None:
                span.set_attribute("ragmesh.tenant_id", command.tenant_id)
                span.set_attribute("ragmesh.document_id", command.document_id)
            outcome = result.outcomes.get(position)
            if not result.finished:
                span.set_status(Status(StatusCode.ERROR, "not finished: stopping or partitions revoked"))
            elif position in result.dead:
                span.set_status(Status(StatusCode.ERROR, result.dead[position][1]))
                span.set_attribute("ragmesh.dead_lettered", True)
            if outcome is not None:
                span.set_attribute("ragmesh.outcome", outcome.kind)
                span.set_attribute("ragmesh.chunk_count", outcome.chunks)
            span.end()
        if not result.finished:
            return
        counts: dict[str, int] = {}
        chunks = 0
        for outcome in result.outcomes.values():
            counts[outcome.kind] = counts.get(outcome.kind, 0) + 1
            chunks += outcome.chunks
        for kind, count in counts.items():
            self._metrics.documents.labels(kind).inc(count)
        self._metrics.chunks.inc(chunks)
        self._metrics.batch_messages.observe(len(records))
        self._metrics.batch_chunks.observe(chunks)
        elapsed = time.perf_counter() - started
        self._metrics.batch_seconds.observe(elapsed)
        fields = {"messages": len(records), "chunks": chunks, "seconds": round(elapsed, 3), **counts}
        _log.info("batch indexed", extra={"fields": fields})

    async def _report_lag(self) -> None:
        for tp in self._consumer.assignment():
            highwater = self._consumer.highwater(tp)
            if highwater is None:
                continue
            try:
                position = await self._consumer.position(tp)
            except IllegalStateError:
                continue
            labels = (tp.topic, str(tp.partition))
            self._lag_labels.add(labels)
            self._metrics.lag.labels(*labels).set(max(0, highwater - position))
