"""Publishes document events to Kafka through the kit's ``DocumentProducer`` (the one producer of
the documents contract: idempotent, acks=all, keyed by tenant/document, trace context in the
headers), adding what the gateway needs: a connection that may come later, a time limit, and
failures as ragmesh errors."""

from __future__ import annotations

import asyncio

from opentelemetry import trace

from ragmesh_kit.document_producer import DocumentProducer
from ragmesh_kit.domain import DocumentCommand
from ragmesh_kit.errors import DeadlineExceeded, DependencyUnavailable


class KafkaDocumentPublisher:
    def __init__(self, bootstrap: str, topic: str, timeout_seconds: float, tracer: trace.Tracer) -> None:
        self._producer = DocumentProducer(
            bootstrap, topic=topic, tracer=tracer, linger_ms=0, request_timeout_ms=int(timeout_seconds * 1000)
        )
        self._timeout = timeout_seconds
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
        try:
            await asyncio.wait_for(self._producer.send(command), timeout=self._timeout)
        except TimeoutError as error:
            raise DeadlineExceeded(f"kafka: publish took longer than {self._timeout}s") from error
        except Exception as error:
            raise DependencyUnavailable(f"kafka: publish failed: {error}") from error

    async def close(self) -> None:
        if self._started:
            await self._producer.stop()
