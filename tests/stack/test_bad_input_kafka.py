"""Bad Kafka payloads, property-based: random bytes and malformed DocumentEvents published to
ragmesh.documents.v1 all land in ragmesh.documents.dlq.v1, nothing of them is indexed, and the
indexer keeps running (a good document sent after them, on the same partition, is indexed)."""

from __future__ import annotations

import secrets
import time

import grpc
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from hypothesis import given
from hypothesis import strategies as st

from ragmesh.documents.v1 import events_pb2
from ragmesh_kit.document_events import DEAD_LETTER_TOPIC, DOCUMENTS_TOPIC, decode_event, message_key
from ragmesh_kit.domain import UPSERT, DocumentCommand
from ragmesh_kit.errors import InvalidArgument
from ragmesh_kit.service_clients import RetrieverClient
from tests.eventually import eventually_async
from tests.stack import test_bad_input_helpers as h
from tests.stack.conftest import RunningStack
from tests.stack.test_bad_input_helpers import cases_of

MAX_CHARS = 4_000_000
OPERATIONS = [0, 1, 2, 3, 99]


def is_poison(payload: bytes) -> bool:
    """What the indexer must dead-letter: undecodable, or a command that can never be applied."""
    try:
        command = decode_event(payload)
    except InvalidArgument:
        return True
    if command.version < 1:
        return True
    return command.operation == UPSERT and (not command.text.strip() or len(command.text) > MAX_CHARS)


def _event(operation: int, tenant: str, document_id: str, version: int, text: str) -> bytes:
    return events_pb2.DocumentEvent(
        operation=operation,  # type: ignore[arg-type]
        tenant_id=tenant,
        document_id=document_id,
        version=version,
        title="t",
        text=text,
    ).SerializeToString()


def payloads(tenant: str) -> st.SearchStrategy[bytes]:
    malformed = st.builds(
        _event,
        st.sampled_from(OPERATIONS),
        st.one_of(st.just(tenant), st.just("")),
        st.one_of(h.odd_text(20), st.just("")),
        st.one_of(st.integers(-(2**63), 0), st.integers(1, 2**63 - 1)),
        st.one_of(st.sampled_from(["", " ", "\n\t "]), h.odd_text(100)),
    )
    truncated = malformed.map(lambda raw: raw[: max(1, len(raw) // 2)])
    return st.one_of(st.binary(max_size=200), malformed, truncated, st.just(b""))


async def _dead_letter_count(bootstrap: str, key: bytes, want: int, timeout: float) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    found = 0
    try:
        partitions = consumer.partitions_for_topic(DEAD_LETTER_TOPIC) or {0}
        tps = [TopicPartition(DEAD_LETTER_TOPIC, p) for p in partitions]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + timeout
        while found < want and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                found += sum(1 for record in records if record.key == key)
    finally:
        await consumer.stop()
    return found


async def test_malformed_payloads_are_dead_lettered_and_nothing_is_indexed(running_stack: RunningStack) -> None:
    tenant = f"kfuzz-{secrets.token_hex(4)}"
    key = message_key(tenant, "fuzz")
    poison: list[bytes] = []

    @cases_of(200)
    @given(payload=payloads(tenant))
    def collect(payload: bytes) -> None:
        if is_poison(payload):
            poison.append(payload)

    collect()
    assert len(poison) >= 150, f"only {len(poison)} of 200 generated payloads are poison"
    bootstrap = f"127.0.0.1:{running_stack.settings.kafka_port}"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for payload in poison:  # one key: one partition, in order, before the good document
            await producer.send_and_wait(DOCUMENTS_TOPIC, value=payload, key=key)
        good = DocumentCommand(UPSERT, tenant, "good", 1, "Good", "A good document after the poison ones.")
        await producer.send_and_wait(DOCUMENTS_TOPIC, value=_event(1, tenant, good.document_id, 1, good.text), key=key)
    finally:
        await producer.stop()
    channel = grpc.aio.insecure_channel(running_stack.address("retriever"))
    retriever = RetrieverClient(channel, 10)
    try:

        async def good_indexed() -> bool:
            return await retriever.count_chunks(tenant) >= 1

        await eventually_async(good_indexed, "the good document after the poison ones indexed", timeout=90)
        assert await retriever.count_chunks(tenant) == 1, "a poison payload was indexed"
        assert await retriever.count_chunks(tenant, "good") == 1
    finally:
        await channel.close()
    dead = await _dead_letter_count(bootstrap, key, len(poison), timeout=60)
    assert dead == len(poison), f"{dead} of {len(poison)} poison payloads are in the dead-letter topic"
    h.assert_all_alive(running_stack)
    print(f"\nkafka bad-input cases: {len(poison)} poison payloads dead-lettered")
