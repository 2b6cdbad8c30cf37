"""Consumes DocumentEvents: one span per message as a child of the producer's span, the offset
committed only after the index write succeeded, transient failures retried with backoff (the
offset does not move), poison messages sent to the dead-letter topic."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from ragmesh_kit.document_events import decode_event
from ragmesh_kit.domain import DocumentCommand
from ragmesh_kit.errors import InvalidArgument, RagmeshError
from ragmesh_kit.telemetry import context_from_kafka_headers
from services.indexer.app.index_document import IndexOutcome

_log = logging.getLogger(__name__)

Handler = Callable[[DocumentCommand], Awaitable[IndexOutcome]]


class DocumentEventConsumer:
    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        dead_letters: AIOKafkaProducer,
        dead_letter_topic: str,
        handle: Handler,
        tracer: trace.Tracer,
        retry_initial_seconds: float,
        retry_max_seconds: float,
    ) -> None:
        self._consumer = consumer
        self._dead_letters = dead_letters
        self._dead_letter_topic = dead_letter_topic
        self._handle = handle
        self._tracer = tracer
        self._retry_initial = retry_initial_seconds
        self._retry_max = retry_max_seconds
        self._stopping = asyncio.Event()
        self._running = False
        self._finished = asyncio.Event()

    async def ready(self) -> bool:
        return self._running

    async def run(self) -> None:
        await self._dead_letters.start()
        await self._consumer.start()
        self._running = True
        try:
            while not self._stopping.is_set():
                batches = await self._consumer.getmany(timeout_ms=500)
                for partition, records in batches.items():
                    for record in records:
                        if self._stopping.is_set():
                            return
                        if await self._process(record):
                            await self._consumer.commit({partition: record.offset + 1})
        finally:
            self._running = False
            self._finished.set()

    async def stop(self) -> None:
        """Finishes the message in hand, commits it, and leaves the group."""
        self._stopping.set()
        if self._running:
            await self._finished.wait()
        await self._consumer.stop()
        await self._dead_letters.stop()

    async def _process(self, record: ConsumerRecord) -> bool:
        """True when the record is done with (indexed or dead-lettered); False when stopping."""
        # A child of the producer's span: one trace per submitted document, from the gateway
        # call to the last upsert. (No extra link to the same span: Jaeger folds a link to the
        # parent into the parent reference and loses the parent-child edge.)
        parent = context_from_kafka_headers(record.headers)
        delay = self._retry_initial
        while True:
            with self._tracer.start_as_current_span(
                f"{record.topic} process", context=parent, kind=SpanKind.CONSUMER
            ) as span:
                span.set_attribute("messaging.system", "kafka")
                span.set_attribute("messaging.operation.type", "process")
                span.set_attribute("messaging.destination.name", record.topic)
                span.set_attribute("messaging.destination.partition.id", str(record.partition))
                span.set_attribute("messaging.kafka.offset", record.offset)
                span.set_attribute("messaging.consumer.group.name", "ragmesh-indexer")
                try:
                    command = decode_event(record.value or b"")
                    outcome = await self._handle(command)
                    _log.info(
                        "document indexed",
                        extra={
                            "fields": {
                                "document_id": command.document_id,
                                "chunks": outcome.chunks,
                                "operation": outcome.operation,
                                "offset": record.offset,
                            }
                        },
                    )
                    return True
                except InvalidArgument as error:
                    span.set_status(Status(StatusCode.ERROR, error.message))
                    await self._dead_letter(record, error.message)
                    return True
                except RagmeshError as error:
                    span.set_status(Status(StatusCode.ERROR, error.message))
                    _log.warning(
                        "transient failure, will retry",
                        extra={"fields": {"reason": error.message, "offset": record.offset, "retry_in_s": delay}},
                    )
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)
                return False
            except TimeoutError:
                delay = min(delay * 2, self._retry_max)

    async def _dead_letter(self, record: ConsumerRecord, reason: str) -> None:
        headers = list(record.headers or ())
        headers.extend(
            [
                ("ragmesh-dlq-reason", reason.encode()),
                ("ragmesh-dlq-source", f"{record.topic}/{record.partition}/{record.offset}".encode()),
            ]
        )
        await self._dead_letters.send_and_wait(
            self._dead_letter_topic, value=record.value, key=record.key, headers=headers
        )
        _log.warning("message dead-lettered", extra={"fields": {"reason": reason, "offset": record.offset}})
