"""Headers of dead letters and of their replays."""

from __future__ import annotations

from aiokafka import ConsumerRecord

from ragmesh_devstack.dlq import replay_headers
from ragmesh_kit.document_events import DEAD_LETTER_TOPIC, EVENT_ID_HEADER


def dead_letter(headers: list[tuple[str, bytes]]) -> ConsumerRecord:
    return ConsumerRecord(
        topic=DEAD_LETTER_TOPIC,
        partition=0,
        offset=41,
        timestamp=0,
        timestamp_type=0,
        key=b"t/d",
        value=b"v",
        checksum=None,
        serialized_key_size=3,
        serialized_value_size=1,
        headers=headers,
    )


def test_replay_drops_dead_letter_headers_keeps_the_rest_and_counts_replays() -> None:
    original = [("traceparent", b"00-abc-def-01"), (EVENT_ID_HEADER, b"e1")]
    first = replay_headers(dead_letter([*original, ("ragmesh-dlq-reason", b"empty"), ("ragmesh-dlq-stage", b"index")]))
    assert first == [
        *original,
        ("ragmesh-replay-count", b"1"),
        ("ragmesh-replay-source", b"ragmesh.documents.dlq.v1/0/41"),
    ]
    again = replay_headers(dead_letter([*first, ("ragmesh-dlq-reason", b"empty")]))
    assert dict(again)["ragmesh-replay-count"] == b"2" and len(again) == len(first)
