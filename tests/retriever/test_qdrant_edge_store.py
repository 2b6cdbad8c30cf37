"""What only the edge adapter has: a shard on disk that must survive close, reopen and SIGKILL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ragmesh_kit.errors import DependencyUnavailable
from services.retriever.adapters.qdrant_edge_store import QdrantEdgeStore
from tests.retriever.store_helpers import DIM, record, unit

REPO = Path(__file__).resolve().parents[2]


async def test_reopen_after_close_keeps_points_and_indexes(tmp_path: Path) -> None:
    path = str(tmp_path / "shard")
    store = await QdrantEdgeStore.open(path, DIM)
    await store.upsert("t", [record(f"c{i}", unit(1, i), metadata={"year": 2000 + i}) for i in range(20)])
    await store.close()

    store = await QdrantEdgeStore.open(path, DIM, hnsw_ef=64)
    try:
        assert await store.count("t") == 20
        hits = await store.search("t", unit(1), 3, [], 0.0)
        assert [h.chunk.chunk_id for h in hits] == ["c0", "c1", "c2"]
        assert hits[0].chunk.metadata == {"year": 2000}
    finally:
        await store.close()


async def test_reopen_with_another_vector_size_fails(tmp_path: Path) -> None:
    path = str(tmp_path / "shard")
    await (await QdrantEdgeStore.open(path, DIM)).close()
    with pytest.raises(Exception, match="vector size"):
        await QdrantEdgeStore.open(path, DIM * 2)


async def test_calls_after_close_are_unavailable(tmp_path: Path) -> None:
    store = await QdrantEdgeStore.open(str(tmp_path / "shard"), DIM)
    await store.close()
    with pytest.raises(DependencyUnavailable):
        await store.search("t", unit(1), 3, [], 0.0)


async def test_concurrent_writes_and_searches(tmp_path: Path) -> None:
    store = await QdrantEdgeStore.open(str(tmp_path / "shard"), DIM, upsert_batch=7)
    try:
        writes = [store.upsert("t", [record(f"w{w}-{i}", unit(1, w, i)) for i in range(30)]) for w in range(8)]
        reads = [store.search("t", unit(1), 5, [], 0.0) for _ in range(20)]
        results = await asyncio.gather(*writes, *reads)
        assert results[:8] == [30] * 8
        assert await store.count("t") == 240
    finally:
        await store.close()


# The child acknowledges each upsert only after ``upsert`` returned, and never flushes or closes.
_CHILD = textwrap.dedent(
    """
    import asyncio, sys, time
    from services.retriever.adapters.qdrant_edge_store import QdrantEdgeStore
    from tests.retriever.store_helpers import record, unit

    async def main() -> None:
        store = await QdrantEdgeStore.open(sys.argv[1], int(sys.argv[2]))
        i = 0
        while True:
            await store.upsert("t", [record(f"c{i}", unit(1, i % 7, i % 5), document_id=f"d{i}")])
            print("acked", i, flush=True)
            i += 1
            if i >= 5000:
                time.sleep(60)

    asyncio.run(main())
    """
)


async def test_acked_upserts_survive_sigkill(tmp_path: Path) -> None:
    path = str(tmp_path / "shard")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "libs"), str(REPO / "libs/gen")])}
    # A plain Popen, not asyncio's subprocess: asyncio's child watcher once lost this child's exit
    # status in CI ("Unknown child process pid ..., will report returncode 255").
    child = subprocess.Popen([sys.executable, "-c", _CHILD, path, str(DIM)], stdout=subprocess.PIPE, env=env, cwd=REPO)
    acked = -1
    try:
        assert child.stdout is not None
        for line in child.stdout:
            acked = int(line.split()[1])
            if acked >= 300:
                break
        child.send_signal(signal.SIGKILL)  # mid-stream: the child is still writing
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL and acked >= 300

    store = await QdrantEdgeStore.open(path, DIM)
    try:
        assert await store.count("t") >= acked + 1
        counts = await asyncio.gather(*(store.count("t", f"d{i}") for i in range(acked + 1)))
        assert counts == [1] * (acked + 1)
    finally:
        await store.close()
