"""Publishing documents to ragmesh from outside the gateway (see docs/kafka-producers.md).

    async with DocumentProducer("kafka:9092") as producer:
        await producer.send(DocumentCommand(UPSERT, "acme", "handbook", version=7, title="Handbook", text=text))

What the indexer relies on, and this helper guarantees:
  - topic ``ragmesh.documents.v1``, value a protobuf ``ragmesh.documents.v1.DocumentEvent``;
  - key ``<tenant>/<document>``: all events of a document land on one partition, in order;
  - an idempotent producer with ``acks=all``: a retried send is written once, and an acknowledged
    send survives the loss of a broker;
  - the W3C trace context (``traceparent``) of the caller's current span in the headers, so the
    indexing shows up in the caller's trace; plus ``ragmesh-event-id``;
  - versions: higher wins, 1 or more (the indexer dead-letters version 0). Use a monotonic source,
    e.g. the source system's revision number or a timestamp in microseconds.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from dataclasses import replace
from types import TracebackType

from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from ragmesh_kit.document_events import DOCUMENTS_TOPIC, EVENT_ID_HEADER, MAX_EVENT_BYTES, encode_event, message_key
from ragmesh_kit.domain import DocumentCommand
from ragmesh_kit.telemetry import kafka_headers_with_context


class DocumentProducer:
    def __init__(
        self,
        bootstrap_servers: str,
        *,
        topic: str = DOCUMENTS_TOPIC,
        tracer: trace.Tracer | None = None,
        linger_ms: int = 5,
        max_request_size: int = MAX_EVENT_BYTES,
        request_timeout_ms: int = 40_000,
    ) -> None:
        # Idempotence needs acks=all; aiokafka then also caps in-flight requests so order is kept.
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            acks="all",
            enable_idempotence=True,
            linger_ms=linger_ms,
            max_request_size=max_request_size,
            request_timeout_ms=request_timeout_ms,
        )
        self.topic = topic
        self._tracer = tracer or trace.get_tracer("ragmesh.document_producer")

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        """Sends what is buffered, then disconnects."""
        await self._producer.stop()

    async def __aenter__(self) -> DocumentProducer:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def send(self, command: DocumentCommand) -> tuple[int, int]:
        """Publishes one event and waits for the broker's acknowledgement; returns (partition, offset)."""
        return (await self.send_many([command]))[0]

    async def send_many(self, commands: Iterable[DocumentCommand]) -> list[tuple[int, int]]:
        """Publishes events pipelined (one round trip per broker batch, not per event) and waits for
        all acknowledgements; returns (partition, offset) per event, in order. Events of one document
        keep their order (same key, same partition, idempotent producer). Each event's PRODUCER span
        lasts until its acknowledgement and records where it was written."""
        pending = [await self._enqueue(command) for command in commands]
        try:
            acked = await asyncio.gather(*(future for _, future in pending))
        except BaseException as error:
            for span, _ in pending:
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, str(error)))
                span.end()
            raise
        for (span, _), meta in zip(pending, acked, strict=True):
            span.set_attribute("messaging.destination.partition.id", str(meta.partition))
            span.set_attribute("messaging.kafka.offset", meta.offset)
            span.end()
        return [(meta.partition, meta.offset) for meta in acked]

    async def _enqueue(self, command: DocumentCommand) -> tuple[Span, asyncio.Future[RecordMetadata]]:
        if not command.event_id:
            command = replace(command, event_id=uuid.uuid4().hex)
        key = message_key(command.tenant_id, command.document_id)
        span = self._tracer.start_span(f"{self.topic} publish", kind=SpanKind.PRODUCER)
        span.set_attribute("messaging.system", "kafka")
        span.set_attribute("messaging.operation.type", "send")
        span.set_attribute("messaging.destination.name", self.topic)
        span.set_attribute("messaging.kafka.message.key", key.decode())
        span.set_attribute("ragmesh.tenant_id", command.tenant_id)
        span.set_attribute("ragmesh.document_id", command.document_id)
        try:
            with trace.use_span(span, end_on_exit=False):  # the headers carry this span's context
                headers = kafka_headers_with_context([(EVENT_ID_HEADER, command.event_id.encode())])
            # send() returns once the message is in the producer's buffer; the future resolves on ack.
            future: asyncio.Future[RecordMetadata] = await self._producer.send(
                self.topic, value=encode_event(command), key=key, headers=headers
            )
        except BaseException as error:
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, str(error)))
            span.end()
            raise
        return span, future
