"""The stores under faults on the real stack: the Kafka broker killed and restarted during
ingestion (nothing lost or duplicated), the retriever killed and restarted (every acknowledged
upsert still there: Qdrant's WAL). Each test restores the stack (``stack.up`` starts what is down)."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import AsyncIterator

import pytest_asyncio

from ragmesh_devstack import stack
from ragmesh_devstack.processes import ProcessTable
from ragmesh_kit.domain import INDEXED, Chunk, ChunkWithVector, DocumentStatus
from tests.eventually import eventually_async
from tests.stack.conftest import RunningStack
from tests.stack.test_ingestion import Ingestion, corpus, expected_chunks, new_tenant, open_ingestion, upserts


@pytest_asyncio.fixture(loop_scope="session")
async def ingestion(running_stack: RunningStack) -> AsyncIterator[Ingestion]:
    async with open_ingestion(running_stack) as value:
        yield value


async def test_kafka_broker_restart_during_ingestion_loses_and_duplicates_nothing(ingestion: Ingestion) -> None:
    settings = ingestion.stack.settings
    table = ProcessTable(settings.run_dir)
    tenant = new_tenant()
    docs = corpus(160, seed=11)
    first, second = docs[:80], docs[80:]
    total = sum(expected_chunks([d.text for d in docs]))
    await ingestion.producer.send_many(upserts(tenant, first))

    async def some_indexed() -> bool:
        return await ingestion.retriever.count_chunks(tenant) > 0

    try:
        await eventually_async(some_indexed, "the first chunks", timeout=120, interval=0.2)
        pid = table.pid("kafka")
        assert pid is not None
        os.killpg(pid, signal.SIGKILL)
        await asyncio.sleep(2)
    finally:
        await asyncio.to_thread(stack.up, settings)
    # The same producer (and the indexer's consumer) reconnect to the restarted broker by themselves.
    await ingestion.producer.send_many(upserts(tenant, second))
    await ingestion.wait_for_chunks(tenant, total, timeout=300)
    await ingestion.assert_exactly_indexed(tenant, docs)


async def test_retriever_killed_keeps_every_acknowledged_upsert(ingestion: Ingestion) -> None:
    settings = ingestion.stack.settings
    table = ProcessTable(settings.run_dir)
    tenant = f"wal-{uuid.uuid4().hex[:8]}"
    vectors = await ingestion.embedder.embed([f"durable chunk number {i} about write-ahead logs" for i in range(40)])
    acknowledged = 0
    for start in range(0, 40, 8):
        records = [
            ChunkWithVector(Chunk(f"doc-{i // 4}#{i % 4}", f"doc-{i // 4}", i % 4, 1, "wal", f"chunk {i}", {}), vector)
            for i, vector in enumerate(vectors[start : start + 8], start=start)
        ]
        acknowledged += await ingestion.retriever.upsert(tenant, records)
    await ingestion.retriever.record_document_state(tenant, DocumentStatus("doc-0", INDEXED, 1, 4))
    assert await ingestion.retriever.count_chunks(tenant) == acknowledged == 40
    pid = table.pid("retriever")
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)  # no flush, no close
    try:
        await asyncio.sleep(0.5)
    finally:
        await asyncio.to_thread(stack.up, settings)
    assert await ingestion.retriever.count_chunks(tenant) == 40
    state = await ingestion.retriever.get_document_state(tenant, "doc-0")
    assert state is not None and (state.state, state.chunk_count) == (INDEXED, 4)
    hits = await ingestion.retriever.search(tenant, vectors[7], 3, [])
    assert hits[0].chunk.chunk_id == "doc-1#3"
