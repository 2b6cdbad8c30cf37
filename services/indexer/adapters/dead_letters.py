"""Publishes poison messages to the dead-letter topic: the original key, value and headers, plus why
and where from, so that an operator can read the reason and ``make dlq-replay`` can re-publish them."""

from __future__ import annotations

import time

from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import MessageSizeTooLargeError

from ragmesh_kit.document_events import (
    DLQ_AT_HEADER,
    DLQ_REASON_HEADER,
    DLQ_SOURCE_HEADER,
    DLQ_STAGE_HEADER,
    DLQ_VALUE_OMITTED_HEADER,
)
from ragmesh_kit.errors import DependencyUnavailable

REASON, SOURCE, STAGE, AT, VALUE_OMITTED = (
    DLQ_REASON_HEADER,
    DLQ_SOURCE_HEADER,
    DLQ_STAGE_HEADER,
    DLQ_AT_HEADER,
    DLQ_VALUE_OMITTED_HEADER,
)
DLQ_HEADERS = (REASON, SOURCE, STAGE, AT, VALUE_OMITTED)


class DeadLetterPublisher:
    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self._producer = producer
        self._topic = topic

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, record: ConsumerRecord, stage: str, reason: str) -> None:
        # Headers of an earlier dead-lettering (a replayed message failing again) are replaced.
        headers = [(key, value) for key, value in record.headers or () if key not in DLQ_HEADERS]
        headers += [
            (REASON, reason.encode()[:4096]),
            (SOURCE, f"{record.topic}/{record.partition}/{record.offset}".encode()),
            (STAGE, stage.encode()),
            (AT, str(int(time.time() * 1000)).encode()),
        ]
        try:
            try:
                await self._producer.send_and_wait(self._topic, value=record.value, key=record.key, headers=headers)
            except MessageSizeTooLargeError:
                # Retrying cannot make it fit (an oversized document is a typical poison message), and
                # waiting would block the partition: the dead letter goes without its value.
                omitted = [*headers, (VALUE_OMITTED, str(len(record.value or b"")).encode())]
                await self._producer.send_and_wait(self._topic, value=None, key=record.key, headers=omitted)
        except Exception as error:
            # Not sent means not done: the offset must not move past it, so it is a transient failure.
            raise DependencyUnavailable(f"kafka: dead-letter publish failed: {error}") from error
