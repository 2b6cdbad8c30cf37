"""Ingestion through Kafka on the real stack: exact chunk counts, versions and deletes, poison
messages in the dead-letter topic. Helpers here are shared with test_ingestion_faults.py.

Each test uses its own tenant, so counts never see another test's documents."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pydoc_data.topics import topics
from typing import Any

import grpc
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from ragmesh.documents.v1 import events_pb2
from ragmesh_devstack.dlq import replay
from ragmesh_kit.document_events import DEAD_LETTER_TOPIC, DOCUMENTS_TOPIC, encode_event, message_key
from ragmesh_kit.document_producer import DocumentProducer
from ragmesh_kit.domain import DELETE, DELETED, FAILED, INDEXED, UPSERT, DocumentCommand, DocumentStatus
from ragmesh_kit.service_clients import EmbedderClient, RetrieverClient
from ragmesh_kit.tokens import TokenCounter
from services.indexer.app.chunker import Chunker, ChunkingPolicy
from services.indexer.settings import IndexerSettings
from tests.eventually import eventually_async
from tests.stack.conftest import RunningStack

GROUP = IndexerSettings().consumer_group


@dataclass(frozen=True)
class Doc:
    document_id: str
    title: str
    text: str


def corpus(count: int, seed: int) -> list[Doc]:
    """Documents of 20-260 words cut from CPython's reference text (1 to 3 chunks each)."""
    rng = random.Random(seed)
    words = [text.split() for text in topics.values() if len(text.split()) > 300]
    docs = []
    for number in range(count):
        source = rng.choice(words)
        size = rng.randint(20, 260)
        start = rng.randint(0, len(source) - size)
        docs.append(Doc(f"doc-{seed}-{number}", f"Document {number}", " ".join(source[start : start + size])))
    return docs


def expected_chunks(texts: Sequence[str]) -> list[int]:
    """What the indexer's own chunker, with its settings, makes of each text."""
    settings = IndexerSettings()
    chunker = Chunker(
        TokenCounter(settings.tokenizer_encoding), ChunkingPolicy(settings.chunk_tokens, settings.chunk_overlap_tokens)
    )
    return [len(chunker.split(text)) for text in texts]


def upserts(tenant: str, docs: Sequence[Doc], version: int = 1) -> list[DocumentCommand]:
    return [DocumentCommand(UPSERT, tenant, d.document_id, version, d.title, d.text) for d in docs]


def new_tenant() -> str:
    return f"ingest-{uuid.uuid4().hex[:8]}"


@dataclass
class Ingestion:
    stack: RunningStack
    producer: DocumentProducer
    retriever: RetrieverClient
    embedder: EmbedderClient

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.stack.settings.kafka_port}"

    async def wait_for_chunks(self, tenant: str, total: int, timeout: float) -> float:
        """Polls until the tenant holds ``total`` chunks; returns the seconds it took."""
        started = time.monotonic()

        async def all_there() -> bool:
            count = await self.retriever.count_chunks(tenant)
            assert count >= total, f"tenant {tenant} holds {count} chunks; expected {total}"
            return True

        await eventually_async(all_there, f"{total} chunks of tenant {tenant}", timeout=timeout, interval=0.5)
        return time.monotonic() - started

    async def assert_exactly_indexed(self, tenant: str, docs: Sequence[Doc], version: int = 1) -> int:
        """Every document INDEXED at ``version`` with exactly the chunker's count, nothing else."""
        expected = expected_chunks([d.text for d in docs])
        gate = asyncio.Semaphore(32)

        async def check(doc: Doc) -> tuple[int, DocumentStatus | None]:
            async with gate:
                count = await self.retriever.count_chunks(tenant, doc.document_id)
                return count, await self.retriever.get_document_state(tenant, doc.document_id)

        found = await asyncio.gather(*(check(d) for d in docs))
        wrong = [
            (d.document_id, want, count, state)
            for d, want, (count, state) in zip(docs, expected, found, strict=True)
            if count != want
            or state is None
            or (state.state, state.version, state.chunk_count) != (INDEXED, version, want)
        ]
        assert not wrong, f"{len(wrong)} documents are not exactly indexed, e.g. {wrong[:3]}"
        assert await self.retriever.count_chunks(tenant) == sum(expected)
        return sum(expected)

    async def assert_searchable(self, tenant: str, docs: Sequence[Doc]) -> None:
        vectors = await self.embedder.embed([d.text for d in docs])
        for doc, vector in zip(docs, vectors, strict=True):
            hits = await self.retriever.search(tenant, vector, 3, [])
            assert hits and hits[0].chunk.document_id == doc.document_id

    async def committed(self, partition: int) -> int:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            offsets = await admin.list_consumer_group_offsets(GROUP)
        finally:
            await admin.close()
        meta = offsets.get(TopicPartition(DOCUMENTS_TOPIC, partition))
        return meta.offset if meta is not None else -1

    async def wait_processed(self, partition: int, offset: int, timeout: float = 60) -> None:
        """Until the indexers' group has committed past ``offset`` (the event is done with)."""

        async def committed_past() -> bool:
            return await self.committed(partition) > offset

        await eventually_async(
            committed_past, f"offset {offset} of partition {partition} committed", timeout=timeout, interval=0.3
        )


@asynccontextmanager
async def open_ingestion(running_stack: RunningStack) -> AsyncIterator[Ingestion]:
    retriever_channel = grpc.aio.insecure_channel(running_stack.address("retriever"))
    embedder_channel = grpc.aio.insecure_channel(running_stack.address("embedder"))
    producer = DocumentProducer(f"127.0.0.1:{running_stack.settings.kafka_port}", max_request_size=8_000_000)
    await producer.start()
    try:
        yield Ingestion(
            running_stack, producer, RetrieverClient(retriever_channel, 30), EmbedderClient(embedder_channel, 60)
        )
    finally:
        await producer.stop()
        await retriever_channel.close()
        await embedder_channel.close()


@pytest_asyncio.fixture(loop_scope="session")
async def ingestion(running_stack: RunningStack) -> AsyncIterator[Ingestion]:
    async with open_ingestion(running_stack) as value:
        yield value


async def test_500_documents_are_indexed_exactly_once(ingestion: Ingestion) -> None:
    tenant = new_tenant()
    docs = corpus(500, seed=1)
    total = sum(expected_chunks([d.text for d in docs]))
    started = time.monotonic()
    await ingestion.producer.send_many(upserts(tenant, docs))
    await ingestion.wait_for_chunks(tenant, total, timeout=240)
    elapsed = time.monotonic() - started
    await ingestion.assert_exactly_indexed(tenant, docs)
    await ingestion.assert_searchable(tenant, random.Random(7).sample(docs, 5))
    figures = {"documents": 500, "chunks": total, "seconds": round(elapsed, 1)}
    figures |= {"documents_per_s": round(500 / elapsed, 1), "chunks_per_s": round(total / elapsed, 1)}
    (ingestion.stack.settings.run_dir / "ingestion-throughput.json").write_text(json.dumps(figures))
    print(f"\ningestion throughput: {figures}")


async def test_newer_version_replaces_older_and_late_events_are_ignored(ingestion: Ingestion) -> None:
    tenant = new_tenant()
    long_text = " ".join(topics["with"].split()[:600])  # several chunks
    [v1_chunks, v2_chunks] = expected_chunks([long_text, "Version two is one short chunk."])
    assert v1_chunks > 2
    v1 = DocumentCommand(UPSERT, tenant, "doc", 1, "v1", long_text)
    v2 = DocumentCommand(UPSERT, tenant, "doc", 2, "v2", "Version two is one short chunk.")
    await ingestion.producer.send(v1)
    await ingestion.wait_for_chunks(tenant, v1_chunks, timeout=60)
    partition, offset = await ingestion.producer.send(v2)
    await ingestion.wait_processed(partition, offset)
    assert await ingestion.retriever.count_chunks(tenant, "doc") == v2_chunks == 1
    state = await ingestion.retriever.get_document_state(tenant, "doc")
    assert state is not None and (state.state, state.version, state.chunk_count) == (INDEXED, 2, 1)

    # A late version 1 (e.g. a replay) must not bring the old text back.
    partition, offset = await ingestion.producer.send(v1)
    await ingestion.wait_processed(partition, offset)
    assert await ingestion.retriever.count_chunks(tenant, "doc") == 1
    hit = (await ingestion.retriever.search(tenant, (await ingestion.embedder.embed(["Version two"]))[0], 5, []))[0]
    assert hit.chunk.version == 2

    # Delete at version 3; then a late upsert of version 2 stays ignored (no resurrection).
    partition, offset = await ingestion.producer.send(DocumentCommand(DELETE, tenant, "doc", 3))
    await ingestion.wait_processed(partition, offset)
    assert await ingestion.retriever.count_chunks(tenant, "doc") == 0
    state = await ingestion.retriever.get_document_state(tenant, "doc")
    assert state is not None and (state.state, state.version) == (DELETED, 3)
    partition, offset = await ingestion.producer.send(v2)
    await ingestion.wait_processed(partition, offset)
    assert await ingestion.retriever.count_chunks(tenant, "doc") == 0
    # A newer upsert after the delete indexes the document again.
    await ingestion.producer.send(DocumentCommand(UPSERT, tenant, "doc", 4, "v4", "Version four is back."))
    await ingestion.wait_for_chunks(tenant, 1, timeout=60)


async def _dead_letters(bootstrap: str, keys: set[bytes], want: int, timeout: float = 60) -> dict[bytes, list[Any]]:
    """Dead letters with the given keys, read from the start of the topic (no consumer group)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    found: dict[bytes, list[Any]] = {}
    try:
        tp = TopicPartition(DEAD_LETTER_TOPIC, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        deadline = time.monotonic() + timeout
        while sum(len(v) for v in found.values()) < want and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    if record.key in keys:
                        found.setdefault(record.key, []).append(dict(record.headers))
    finally:
        await consumer.stop()
    return found


async def test_poison_messages_go_to_the_dead_letter_topic_and_never_block(ingestion: Ingestion) -> None:
    tenant = new_tenant()
    bad = {
        "garbage": b"\xff\xfe not a protobuf \x00\x01",
        "no-operation": events_pb2.DocumentEvent(
            tenant_id=tenant, document_id="no-operation", text="x"
        ).SerializeToString(),
        "empty": encode_event(DocumentCommand(UPSERT, tenant, "empty", 1, "Empty", "  \n ")),
        "version-zero": encode_event(DocumentCommand(UPSERT, tenant, "version-zero", 0, "V0", "Some text.")),
        "oversized": encode_event(DocumentCommand(UPSERT, tenant, "oversized", 1, "Big", "word " * 900_000)),
    }
    # All with the good document's key: one partition, so the good one waits behind them.
    key = message_key(tenant, "good")
    raw = AIOKafkaProducer(
        bootstrap_servers=ingestion.bootstrap, acks="all", compression_type="gzip", max_request_size=8_000_000
    )
    await raw.start()
    try:
        for value in bad.values():
            await raw.send_and_wait(DOCUMENTS_TOPIC, value=value, key=key)
    finally:
        await raw.stop()
    good = Doc("good", "Good", "A good document after the poison ones is indexed.")
    await ingestion.producer.send(upserts(tenant, [good])[0])
    await ingestion.wait_for_chunks(tenant, 1, timeout=90)

    [letters] = (await _dead_letters(ingestion.bootstrap, {key}, want=len(bad))).values()
    reasons = dict(zip(bad, (h["ragmesh-dlq-reason"].decode() for h in letters), strict=True))
    assert "not a DocumentEvent" in reasons["garbage"]
    assert "operation" in reasons["no-operation"]
    assert reasons["empty"] == "document text is empty"
    assert "version" in reasons["version-zero"]
    assert "limit" in reasons["oversized"]
    assert all(h["ragmesh-dlq-source"].startswith(DOCUMENTS_TOPIC.encode()) for h in letters)
    # Too large for the dead-letter topic: sent without the value, saying so.
    assert letters[-1]["ragmesh-dlq-value-omitted"] == str(len(bad["oversized"])).encode()
    failed = await ingestion.retriever.get_document_state(tenant, "empty")
    assert failed is not None and (failed.state, failed.reason) == (FAILED, "document text is empty")
    assert await ingestion.retriever.count_chunks(tenant) == 1

    # `make dlq-replay` re-publishes them (here, still poison: they come back, counted as replayed).
    assert await replay(ingestion.bootstrap, group=f"replay-{tenant}", idle_seconds=3) >= len(bad)
    [letters] = (await _dead_letters(ingestion.bootstrap, {key}, want=2 * len(bad))).values()
    assert [h.get("ragmesh-replay-count") for h in letters] == [None] * len(bad) + [b"1"] * len(bad)
