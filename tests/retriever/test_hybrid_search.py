"""Hybrid search (dense + BM25 terms, reciprocal rank fusion) on both Qdrant adapters, the retriever's
mode switch, and the migration of stores created before the sparse vector existed."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from qdrant_client import AsyncQdrantClient, models
from qdrant_edge import Distance, EdgeConfig, EdgeShard, EdgeVectorParams, Point, UpdateOperation

from ragmesh_kit.domain import DENSE, HYBRID, Chunk, ChunkWithVector, MetadataFilter
from ragmesh_kit.errors import InvalidArgument
from services.retriever.adapters import qdrant_payload as qp
from services.retriever.adapters.qdrant_edge_store import QdrantEdgeStore
from services.retriever.adapters.qdrant_server_store import QdrantServerStore
from services.retriever.app.chunk_index import ChunkIndex, SearchLimits
from services.retriever.app.metadata_schema import MetadataSchema
from tests.retriever.store_helpers import DIM, unit


def chunk(chunk_id: str, text: str, vector: list[float], *, document_id: str = "", lang: str = "en") -> ChunkWithVector:
    return ChunkWithVector(
        chunk=Chunk(
            chunk_id=chunk_id,
            document_id=document_id or f"doc-{chunk_id}",
            chunk_index=0,
            version=1,
            title="",
            text=text,
            metadata={"lang": lang},
        ),
        vector=vector,
    )


# Four look-alike API notes whose embeddings sit close together; the question's embedding is nearest
# to the wrong ones, as a sentence encoder's is when only an identifier tells the notes apart.
LOOKALIKES = [
    chunk("join", "os.path.join(a, *p) joins one or more path segments intelligently.", unit(1, 0.30)),
    chunk("copy", "shutil.copy(src, dst) copies the file src to the file or directory dst.", unit(1, 0.05)),
    chunk("move", "shutil.move(src, dst) recursively moves a file or directory to another location.", unit(1, 0.10)),
    chunk("flag", "The CLI option --top-k sets how many chunks a search returns.", unit(1, 0.20)),
]
QUESTION_VECTOR = unit(1, 0)


def ids(found: list[Any]) -> list[str]:
    return [item.chunk.chunk_id for item in found]


async def test_hybrid_finds_the_identifier_that_dense_ranks_last(store: Any) -> None:
    await store.upsert("t", LOOKALIKES)
    dense = await store.search("t", QUESTION_VECTOR, 2, [], 0.0)
    assert "join" not in ids(dense)
    hybrid = await store.search("t", QUESTION_VECTOR, 2, [], 0.0, "What does os.path.join do?")
    assert ids(hybrid)[0] == "join"
    flag = await store.search("t", QUESTION_VECTOR, 2, [], 0.0, "what does --top-k do")
    assert ids(flag)[0] == "flag"


async def test_hybrid_scores_are_cosine_and_the_threshold_applies_to_them(store: Any) -> None:
    await store.upsert("t", [*LOOKALIKES, chunk("far", "os.path.join is also mentioned here", unit(0, 1))])
    dense = {item.chunk.chunk_id: item.score for item in await store.search("t", QUESTION_VECTOR, 10, [], 0.0)}
    hybrid = await store.search("t", QUESTION_VECTOR, 10, [], 0.0, "os.path.join")
    assert set(ids(hybrid)) == set(dense)
    for item in hybrid:
        assert item.score == pytest.approx(dense[item.chunk.chunk_id], abs=1e-5)
    # "far" matches the terms but is orthogonal to the question: a cosine threshold drops it.
    kept = await store.search("t", QUESTION_VECTOR, 10, [], 0.5, "os.path.join")
    assert "far" not in ids(kept) and ids(kept)[0] == "join"
    assert all(item.score >= 0.5 for item in kept)


async def test_hybrid_keeps_tenants_and_filters(store: Any) -> None:
    await store.upsert("tenant-a", LOOKALIKES)
    await store.upsert("tenant-b", [chunk("b-only", "nothing about paths", unit(0, 1), lang="de")])
    found = await store.search("tenant-b", QUESTION_VECTOR, 5, [], 0.0, "os.path.join")
    assert ids(found) == ["b-only"]
    assert await store.search("tenant-c", QUESTION_VECTOR, 5, [], 0.0, "os.path.join") == []
    de = await store.search("tenant-a", QUESTION_VECTOR, 5, [MetadataFilter("lang", equals="de")], 0.0, "join")
    assert de == []


async def test_a_question_of_stopwords_only_is_a_dense_search(store: Any) -> None:
    await store.upsert("t", LOOKALIKES)
    dense = await store.search("t", QUESTION_VECTOR, 4, [], 0.0)
    assert ids(await store.search("t", QUESTION_VECTOR, 4, [], 0.0, "what is it?")) == ids(dense)


async def test_reupsert_replaces_the_terms(store: Any) -> None:
    await store.upsert("t", LOOKALIKES)
    await store.upsert("t", [chunk("join", "shutil.copyfile copies a file.", unit(1, 0.30))])
    assert "join" in ids(await store.search("t", QUESTION_VECTOR, 3, [], 0.0, "shutil.copyfile"))
    # No chunk holds the old terms any more: the ranking is the dense one.
    still = await store.search("t", QUESTION_VECTOR, 1, [], 0.0, "os.path.join")
    assert ids(still) == ["copy"] and await store.count("t") == len(LOOKALIKES)


async def test_the_mode_switch(tmp_path: Path) -> None:
    store = await QdrantEdgeStore.open(str(tmp_path / "shard"), DIM)
    try:
        await store.upsert("t", LOOKALIKES)

        def index(default: Any) -> ChunkIndex:
            return ChunkIndex(store, DIM, SearchLimits(default_mode=default), 100, MetadataSchema({}))

        question = "What does os.path.join do?"
        hybrid_default, dense_default = index(HYBRID), index(DENSE)
        assert ids(await hybrid_default.search("t", QUESTION_VECTOR, 1, [], 0.0, 0, question))[0] == "join"
        assert ids(await dense_default.search("t", QUESTION_VECTOR, 1, [], 0.0, 0, question)) != ["join"]
        # An explicit mode wins over the default.
        assert ids(await dense_default.search("t", QUESTION_VECTOR, 1, [], 0.0, 0, question, HYBRID)) == ["join"]
        assert ids(await hybrid_default.search("t", QUESTION_VECTOR, 1, [], 0.0, 0, question, DENSE)) != ["join"]
        # Without the text the default is dense; an explicit hybrid says what is missing.
        assert ids(await hybrid_default.search("t", QUESTION_VECTOR, 1, [], 0.0)) == ["copy"]
        with pytest.raises(InvalidArgument, match="hybrid retrieval needs query_text"):
            await hybrid_default.search("t", QUESTION_VECTOR, 1, [], 0.0, 0, " ", HYBRID)
        with pytest.raises(InvalidArgument, match="query_text has 8001 characters; the limit is 8000"):
            await hybrid_default.search("t", QUESTION_VECTOR, 1, [], 0.0, 0, "x" * 8001)
    finally:
        await store.close()


def _old_points() -> list[tuple[str, list[float], dict[str, Any]]]:
    return [(qp.point_id("t", r.chunk.chunk_id), r.vector, qp.build_payload("t", r.chunk)) for r in LOOKALIKES]


async def test_an_edge_shard_from_before_hybrid_is_migrated_on_open(tmp_path: Path) -> None:
    path = str(tmp_path / "shard")
    # The shard as the previous release created it: one unnamed dense vector, no sparse vector.
    old = EdgeShard.create(path, EdgeConfig(vectors=EdgeVectorParams(size=DIM, distance=Distance.Cosine)))
    old.update(UpdateOperation.upsert_points([Point(pid, vec, payload) for pid, vec, payload in _old_points()]))
    old.close()
    for opened in range(2):  # the second open finds nothing left to migrate
        store = await QdrantEdgeStore.open(path, DIM)
        try:
            assert await store.count("t") == len(LOOKALIKES) + opened
            found = await store.search("t", QUESTION_VECTOR, 2, [], 0.0, "What does os.path.join do?")
            assert ids(found)[0] == "join"
            await store.upsert("t", [chunk("new", "pathlib.Path.joinpath combines paths", unit(1, 0.4))])
            assert ids(await store.search("t", QUESTION_VECTOR, 1, [], 0.0, "pathlib.Path.joinpath")) == ["new"]
        finally:
            await store.close()


async def test_a_server_collection_from_before_hybrid_is_migrated_by_ensure_collection() -> None:
    client = AsyncQdrantClient(location=":memory:")
    await client.create_collection(
        "chunks", vectors_config=models.VectorParams(size=DIM, distance=models.Distance.COSINE)
    )
    points = [models.PointStruct(id=pid, vector=vec, payload=payload) for pid, vec, payload in _old_points()]
    await client.upsert("chunks", points=points, wait=True)
    store = QdrantServerStore(client, "chunks", DIM)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Payload indexes have no effect")
        await store.ensure_collection()
        info = await client.get_collection("chunks")
        assert qp.SPARSE_VECTOR in (info.config.params.sparse_vectors or {})
        assert await store._backfill_terms() == 0  # everything filled in by the first pass
    try:
        assert await store.count("t") == len(LOOKALIKES)
        found = await store.search("t", QUESTION_VECTOR, 2, [], 0.0, "What does os.path.join do?")
        assert ids(found)[0] == "join"
    finally:
        await store.close()
