"""Consumes DocumentEvents in batches: Kafka records <-> domain commands, nothing more.

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
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from functools import partial
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from opentelemetry import trace
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode

from ragmesh_kit.document_events import decode_event
from ragmesh_kit.domain import DocumentCommand
from ragmesh_kit.errors import InvalidArgument, RagmeshError
from ragmesh_kit.telemetry import context_from_kafka_headers
from services.indexer.adapters.dead_letters import DeadLetterPublisher
from services.indexer.app.index_batch import Outcome, Scope
from services.indexer.entrypoints.consumer_metrics import ConsumerMetrics

_log = logging.getLogger(__name__)
T = TypeVar("T")

IndexHandler = Callable[[Sequence[DocumentCommand], Scope], Awaitable[list[Outcome]]]


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
        self._index = index
        self._tracer = tracer
        self._metrics = metrics
        self._max_batch = max_batch
        self._retry_initial = retry_initial_seconds
        self._retry_max = retry_max_seconds
        self._revoke_wait = revoke_wait_seconds
        self._busy = asyncio.Lock()  # held while a batch is processed and committed
        self._stopping = False
        self._interrupt = asyncio.Event()  # ends retry waits: stopping, or partitions taken away
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
        commands: list[DocumentCommand] = []
        positions: list[int] = []  # record index of each command
        dead: dict[int, tuple[str, str]] = {}  # record index -> (stage, reason)
        for index, record in enumerate(records):
            try:
                command = decode_event(record.value or b"")
            except InvalidArgument as error:
                dead[index] = ("decode", error.message)
                continue
            spans[index].set_attribute("ragmesh.tenant_id", command.tenant_id)
            spans[index].set_attribute("ragmesh.document_id", command.document_id)
            commands.append(command)
            positions.append(index)

        def scope(position: int) -> AbstractContextManager[object]:
            return trace.use_span(spans[positions[position]], end_on_exit=False)

        outcomes = await self._index_all(commands, scope)
        done = outcomes is not None
        if outcomes is not None:
            for position, outcome in enumerate(outcomes):
                if outcome.kind == "rejected":
                    dead[positions[position]] = ("index", outcome.reason)
            sends = [(records[i], stage, reason) for i, (stage, reason) in sorted(dead.items())]
            done = await self._retrying(lambda: self._send_dead_letters(sends)) is not None
        if done:
            await self._commit(batches)
        self._finish(records, spans, positions, outcomes if done else None, dead, started)
        batch_span.end()

    async def _index_all(self, commands: list[DocumentCommand], scope: Scope) -> list[Outcome] | None:
        """Outcomes of the batch; None when stopping or the partitions were taken away meanwhile."""
        try:
            return await self._retrying(lambda: self._index(commands, scope))
        except InvalidArgument:
            # Refused without saying which event is at fault: one by one, the guilty one is rejected.
            outcomes: list[Outcome] = []
            for position, command in enumerate(commands):
                try:
                    result = await self._retrying(partial(self._index_one, command, scope, position))
                except InvalidArgument as error:
                    result = [Outcome("rejected", reason=error.message)]
                if result is None:
                    return None
                outcomes.extend(result)
            return outcomes

    async def _index_one(self, command: DocumentCommand, scope: Scope, position: int) -> list[Outcome]:
        return await self._index([command], lambda _: scope(position))

    async def _retrying(self, attempt: Callable[[], Awaitable[T]]) -> T | None:
        """Runs ``attempt`` until it succeeds, backing off after transient failures; None if
        interrupted. InvalidArgument (the input's fault, retrying cannot help) propagates."""
        delay = self._retry_initial
        while True:
            try:
                return await attempt()
            except InvalidArgument:
                raise
            except RagmeshError as error:
                reason = error.message
            except Exception as error:  # noqa: BLE001 - a bug must not kill the consumer; retried, logged
                _log.exception("unexpected failure in batch")
                reason = repr(error)
            # The first attempt always runs (a stop lets the batch in hand finish); waits end early.
            if self._interrupt.is_set():
                return None
            self._metrics.retries.inc()
            _log.warning("transient failure, will retry", extra={"fields": {"reason": reason, "retry_in_s": delay}})
            try:
                await asyncio.wait_for(self._interrupt.wait(), timeout=delay)
            except TimeoutError:
                delay = min(delay * 2, self._retry_max)

    async def _send_dead_letters(self, sends: list[tuple[ConsumerRecord, str, str]]) -> bool:
        for record, stage, reason in sends:
            # One at a time, so the dead-letter topic keeps the source order (they are rare).
            await self._dead_letters.publish(record, stage, reason)
            self._metrics.dead_letters.labels(stage).inc()
            _log.warning(
                "message dead-lettered",
                extra={
                    "fields": {"reason": reason, "stage": stage, "partition": record.partition, "offset": record.offset}
                },
            )
        return True

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

    def _finish(
        self,
        records: list[ConsumerRecord],
        spans: list[Span],
        positions: list[int],
        outcomes: list[Outcome] | None,
        dead: dict[int, tuple[str, str]],
        started: float,
    ) -> None:
        """Ends the spans and records metrics and one log line for the batch."""
        by_record = dict(zip(positions, outcomes or [], strict=False))
        counts: dict[str, int] = {}
        chunks = 0
        for index, span in enumerate(spans):
            outcome = by_record.get(index)
            if outcomes is None:
                span.set_status(Status(StatusCode.ERROR, "not finished: stopping or partitions revoked"))
            elif index in dead:
                span.set_status(Status(StatusCode.ERROR, dead[index][1]))
                span.set_attribute("ragmesh.dead_lettered", True)
            if outcome is not None:
                span.set_attribute("ragmesh.outcome", outcome.kind)
                span.set_attribute("ragmesh.chunk_count", outcome.chunks)
            span.end()
        if outcomes is None:
            return
        for outcome in outcomes:
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
