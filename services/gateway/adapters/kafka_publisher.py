"""Publishes document events to Kafka: idempotent producer, acks=all, keyed by tenant/document,
with the W3C trace context in the message headers."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from ragmesh_kit.document_events import encode_event, message_key
from ragmesh_kit.domain import DocumentCommand
from ragmesh_kit.errors import DeadlineExceeded, DependencyUnavailable
from ragmesh_kit.telemetry import kafka_headers_with_context


class KafkaDocumentPublisher:
    def __init__(self, bootstrap: str, topic: str, timeout_seconds: float, tracer: trace.Tracer) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            acks="all",
            enable_idempotence=True,
            request_timeout_ms=int(timeout_seconds * 1000),
        )
        self._topic = topic
        self._timeout = timeout_seconds
        self._tracer = tracer
        self._started = False

    async def start(self) -> None:
        await self._producer.start()
        self._started = True

    async def ready(self) -> bool:
        if not self._started:
            try:
                await self.start()
            except Exception:  # noqa: BLE001 - broker not reachable yet; health says NOT_SERVING
                return False
        return True

    async def publish(self, command: DocumentCommand) -> None:
        if not self._started:
            raise DependencyUnavailable("kafka: the producer is not connected yet; retry shortly")
        with self._tracer.start_as_current_span(f"{self._topic} publish", kind=SpanKind.PRODUCER) as span:
            span.set_attribute("messaging.system", "kafka")
            span.set_attribute("messaging.operation.type", "send")
            span.set_attribute("messaging.destination.name", self._topic)
            span.set_attribute(
                "messaging.kafka.message.key", message_key(command.tenant_id, command.document_id).decode()
            )
            span.set_attribute("ragmesh.tenant_id", command.tenant_id)
            span.set_attribute("ragmesh.document_id", command.document_id)
            try:
                metadata = await asyncio.wait_for(
                    self._producer.send_and_wait(
                        self._topic,
                        value=encode_event(command),
                        key=message_key(command.tenant_id, command.document_id),
                        headers=kafka_headers_with_context([("ragmesh-event-id", command.event_id.encode())]),
                    ),
                    timeout=self._timeout,
                )
            except TimeoutError as error:
                raise DeadlineExceeded(f"kafka: publish took longer than {self._timeout}s") from error
            except Exception as error:
                raise DependencyUnavailable(f"kafka: publish failed: {error}") from error
            span.set_attribute("messaging.destination.partition.id", str(metadata.partition))
            span.set_attribute("messaging.kafka.offset", metadata.offset)

    async def close(self) -> None:
        if self._started:
            await self._producer.stop()
