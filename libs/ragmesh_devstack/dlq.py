"""Dead-letter replay: re-publishes what the indexer dead-lettered to the documents topic, after the
cause is fixed (``make dlq-replay``).

Each dead letter is sent once: the tool reads the dead-letter topic in its own consumer group and
commits after the re-published messages are acknowledged. It replays only what was in the topic when
it started, so a replayed message that fails again (and returns to the topic) waits for the next run
instead of looping. The original key, value and headers go
back (so the trace context and event id are kept), without the ``ragmesh-dlq-*`` headers, plus
``ragmesh-replay-count`` (how often this message has been replayed) and ``ragmesh-replay-source``.

    python -m ragmesh_devstack.dlq replay [--bootstrap HOST:PORT] [--limit N] [--idle-seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from ragmesh_devstack.settings import StackSettings
from ragmesh_kit.document_events import (
    DEAD_LETTER_TOPIC,
    DLQ_HEADER_PREFIX,
    DOCUMENTS_TOPIC,
    REPLAY_COUNT_HEADER,
    REPLAY_SOURCE_HEADER,
)

REPLAY_GROUP = "ragmesh-dlq-replay"
REPLAY_COUNT = REPLAY_COUNT_HEADER
REPLAY_SOURCE = REPLAY_SOURCE_HEADER
_DLQ_PREFIX = DLQ_HEADER_PREFIX
_BATCH = 200


def replay_headers(record: ConsumerRecord) -> list[tuple[str, bytes]]:
    headers = list(record.headers or ())
    count = 0
    for key, value in headers:
        if key == REPLAY_COUNT:
            try:
                count = int(value.decode())
            except ValueError:
                count = 0
    kept = [(k, v) for k, v in headers if not k.startswith(_DLQ_PREFIX) and k not in (REPLAY_COUNT, REPLAY_SOURCE)]
    source = f"{record.topic}/{record.partition}/{record.offset}"
    return [*kept, (REPLAY_COUNT, str(count + 1).encode()), (REPLAY_SOURCE, source.encode())]


async def replay(
    bootstrap: str,
    *,
    limit: int = 0,
    idle_seconds: float = 5.0,
    source_topic: str = DEAD_LETTER_TOPIC,
    target_topic: str = DOCUMENTS_TOPIC,
    group: str = REPLAY_GROUP,
) -> int:
    """Re-publishes dead letters not replayed yet and present at the start (at most ``limit``; 0: all),
    giving up after ``idle_seconds`` without a message. Returns how many were re-published."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await consumer.start()
    await producer.start()
    sent = 0
    try:
        # Assigned, not subscribed: one replay tool at a time, and no rebalance to wait for.
        # (The producer's metadata lookup waits for the topic; the consumer's cache may be empty.)
        ids = await producer.partitions_for(source_topic)
        partitions = [TopicPartition(source_topic, p) for p in sorted(ids)]
        consumer.assign(partitions)
        end = await consumer.end_offsets(partitions)
        while not limit or sent < limit:
            pending = [tp for tp in partitions if await consumer.position(tp) < end[tp]]
            if not pending:
                break
            want = min(_BATCH, limit - sent) if limit else _BATCH
            batches = await consumer.getmany(*pending, timeout_ms=int(idle_seconds * 1000), max_records=want)
            if not batches:
                break
            acks = []
            done: dict[TopicPartition, int] = {}
            for tp, records in batches.items():
                for record in records:
                    if record.offset >= end[tp]:
                        break
                    future = await producer.send(
                        target_topic, value=record.value, key=record.key, headers=replay_headers(record)
                    )
                    acks.append(future)
                    done[tp] = record.offset + 1
            await asyncio.gather(*acks)
            # Committed only once every re-published message is acknowledged: none is lost, and a
            # crash in between at worst replays a message twice (the indexer's writes are idempotent).
            if done:
                await consumer.commit(done)
            for tp, offset in done.items():
                consumer.seek(tp, offset)  # records past the start's end are left for the next run
            sent += len(acks)
    finally:
        await producer.stop()
        await consumer.stop()
    return sent


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ragmesh_devstack.dlq", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("replay", help="re-publish dead-lettered documents to the documents topic")
    run.add_argument("--bootstrap", default="", help="Kafka bootstrap servers (default: the local stack's)")
    run.add_argument("--limit", type=int, default=0, help="replay at most this many (0: all)")
    run.add_argument("--idle-seconds", type=float, default=5.0, help="stop after this long without a message")
    args = parser.parse_args(argv)
    bootstrap = args.bootstrap or f"127.0.0.1:{StackSettings().kafka_port}"
    count = asyncio.run(replay(bootstrap, limit=args.limit, idle_seconds=args.idle_seconds))
    print(f"replayed {count} dead-lettered message(s) from {DEAD_LETTER_TOPIC} to {DOCUMENTS_TOPIC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
