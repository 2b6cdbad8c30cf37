"""Ingestion under faults on the real stack: the indexer killed, the embedder stopped, a second
indexer joining and leaving. Each test leaves the stack as it found it (``stack.up`` restarts only
what is not running)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest_asyncio

from ragmesh_devstack import stack
from ragmesh_devstack.components import grpc_serving, services
from ragmesh_devstack.processes import ProcessTable
from tests.eventually import eventually_async
from tests.stack.conftest import RunningStack
from tests.stack.test_ingestion import Ingestion, corpus, expected_chunks, new_tenant, open_ingestion, upserts

SECOND = "indexer-2"
PORT_OFFSET = 500  # the second indexer's ports: the first's plus this


@pytest_asyncio.fixture(loop_scope="session")
async def ingestion(running_stack: RunningStack) -> AsyncIterator[Ingestion]:
    async with open_ingestion(running_stack) as value:
        yield value


def indexer_counter(metrics_port: int, name: str) -> float:
    """Sum of one counter's samples scraped from an indexer's /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as reply:
        text = reply.read().decode()
    return sum(float(m.group(1)) for m in re.finditer(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.MULTILINE))


async def test_indexer_killed_mid_ingestion_loses_and_duplicates_nothing(ingestion: Ingestion) -> None:
    settings = ingestion.stack.settings
    table = ProcessTable(settings.run_dir)
    tenant = new_tenant()
    docs = corpus(200, seed=2)
    total = sum(expected_chunks([d.text for d in docs]))
    await ingestion.producer.send_many(upserts(tenant, docs))

    async def partly_done() -> bool:
        return await ingestion.retriever.count_chunks(tenant) >= total // 4

    try:
        await eventually_async(partly_done, "a quarter of the chunks", timeout=120, interval=0.2)
        pid = table.pid("indexer")
        assert pid is not None
        os.killpg(pid, signal.SIGKILL)  # no drain, no commit: the batch in hand is redone
        await asyncio.sleep(0.5)
        assert await ingestion.retriever.count_chunks(tenant) < total, "all done before the kill"
    finally:
        await asyncio.to_thread(stack.up, settings)
    await ingestion.wait_for_chunks(tenant, total, timeout=240)
    await ingestion.assert_exactly_indexed(tenant, docs)


async def test_embedder_outage_is_retried_until_it_is_back(ingestion: Ingestion) -> None:
    settings = ingestion.stack.settings
    table = ProcessTable(settings.run_dir)
    metrics_port = settings.indexer_metrics_port
    retries_before = indexer_counter(metrics_port, "ragmesh_indexer_batch_retries_total")
    tenant = new_tenant()
    docs = corpus(120, seed=3)
    total = sum(expected_chunks([d.text for d in docs]))
    await ingestion.producer.send_many(upserts(tenant, docs))

    async def started() -> bool:
        return await ingestion.retriever.count_chunks(tenant) > 0

    try:
        await eventually_async(started, "the first chunks", timeout=120, interval=0.2)
        await asyncio.to_thread(table.stop, "embedder")
        # Embeddings the draining embedder answered may still be written: once the count holds for
        # 2 s, nothing else can be written without the embedder.
        stopped_at = -1
        while (count := await ingestion.retriever.count_chunks(tenant)) != stopped_at:
            stopped_at = count
            await asyncio.sleep(2)
        await asyncio.sleep(10)
        assert stopped_at < total, "all done before the embedder stopped"
        # Nothing moves while the embedder is away (the indexer retries, it does not skip).
        assert await ingestion.retriever.count_chunks(tenant) == stopped_at
    finally:
        await asyncio.to_thread(stack.up, settings)
    await ingestion.wait_for_chunks(tenant, total, timeout=240)
    await ingestion.assert_exactly_indexed(tenant, docs)
    assert indexer_counter(metrics_port, "ragmesh_indexer_batch_retries_total") > retries_before


async def test_two_indexers_share_the_partitions_and_index_each_document_once(ingestion: Ingestion) -> None:
    settings = ingestion.stack.settings
    table = ProcessTable(settings.run_dir)
    [first] = [c for c in services(settings) if c.name == "indexer"]
    port, metrics_port = settings.indexer_port + PORT_OFFSET, settings.indexer_metrics_port + PORT_OFFSET
    env = {**first.spec.env, "INDEXER_PORT": str(port), "INDEXER_METRICS_PORT": str(metrics_port)}
    table.start(replace(first.spec, name=SECOND, env=env))
    indexed = "ragmesh_indexer_documents_total"
    try:

        async def second_ready() -> bool:
            return await asyncio.to_thread(grpc_serving, port)

        await eventually_async(second_ready, "the second indexer", timeout=90, interval=0.2)
        before = indexer_counter(settings.indexer_metrics_port, indexed)
        tenant = new_tenant()
        docs = corpus(240, seed=4)
        total = sum(expected_chunks([d.text for d in docs]))
        await ingestion.producer.send_many(upserts(tenant, docs))

        async def both_working() -> bool:
            return (
                indexer_counter(metrics_port, indexed) > 0
                and indexer_counter(settings.indexer_metrics_port, indexed) > before
            )

        await eventually_async(both_working, "both indexers to index documents", timeout=120, interval=0.2)
        # The second leaves (SIGTERM) mid-ingestion: it commits its batch, the first takes over.
        await asyncio.to_thread(table.stop, SECOND)
        await ingestion.wait_for_chunks(tenant, total, timeout=240)
        await ingestion.assert_exactly_indexed(tenant, docs)
    finally:
        await asyncio.to_thread(table.stop, SECOND)
