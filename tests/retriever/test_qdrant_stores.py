"""Behaviour both Qdrant adapters share (each test runs on edge and on the server adapter)."""

from __future__ import annotations

from typing import Any

import pytest

from ragmesh_kit.domain import MetadataFilter, MetadataScalar, Range
from ragmesh_kit.errors import InvalidArgument
from services.retriever.app.ports import ChunkStore
from tests.retriever.store_helpers import DIM, record, unit


def ids(results: list[Any]) -> list[str]:
    return [r.chunk.chunk_id for r in results]


async def test_satisfies_the_port(store: Any) -> None:
    port: ChunkStore = store  # mypy checks the structural match; this checks it at runtime too
    assert await port.ready()


async def test_search_orders_by_similarity_and_round_trips_the_chunk(store: Any) -> None:
    meta: dict[str, MetadataScalar] = {"lang": "en", "year": 2024, "score": 0.5, "public": True}
    await store.upsert(
        "t1",
        [
            record("far", unit(0, 1)),
            record("near", unit(1, 0.1), metadata=meta, index=3, version=7),
            record("mid", unit(1, 1)),
        ],
    )
    results = await store.search("t1", unit(1, 0), 10, [], 0.0)
    assert ids(results) == ["near", "mid", "far"]
    assert results[0].score > results[1].score > results[2].score
    top = results[0].chunk
    assert (top.document_id, top.chunk_index, top.version) == ("doc-1", 3, 7)
    assert (top.title, top.text) == ("title near", "text of near")
    assert top.metadata == meta and isinstance(top.metadata["public"], bool)
    assert ids(await store.search("t1", unit(1, 0), 2, [], 0.0)) == ["near", "mid"]


async def test_tenants_never_see_each_other(store: Any) -> None:
    # Same chunk ids in both tenants: the point id includes the tenant, so neither overwrites the other.
    await store.upsert("tenant-a", [record("c1", unit(1)), record("c2", unit(1, 1))])
    await store.upsert("tenant-b", [record("c1", unit(0, 1))])
    assert await store.count("tenant-a") == 2 and await store.count("tenant-b") == 1
    b = await store.search("tenant-b", unit(1), 10, [], 0.0)
    assert ids(b) == ["c1"] and b[0].score < 0.5  # tenant B's own c1, not tenant A's identical vector
    assert await store.search("tenant-c", unit(1), 10, [], 0.0) == []


async def test_metadata_filters(store: Any) -> None:
    await store.upsert(
        "t",
        [
            record("a", unit(1), metadata={"lang": "en", "year": 2020, "public": True, "rating": 4.5}),
            record("b", unit(1, 0.1), metadata={"lang": "de", "year": 2022, "public": False, "rating": 3.0}),
            record("c", unit(1, 0.2), metadata={"lang": "fr", "year": 2024, "public": True}),
        ],
    )

    async def hits(*filters: MetadataFilter) -> set[str]:
        return set(ids(await store.search("t", unit(1), 10, list(filters), 0.0)))

    assert await hits(MetadataFilter("lang", equals="de")) == {"b"}
    assert await hits(MetadataFilter("year", equals=2024)) == {"c"}
    assert await hits(MetadataFilter("public", equals=True)) == {"a", "c"}
    assert await hits(MetadataFilter("public", equals=False)) == {"b"}
    assert await hits(MetadataFilter("rating", equals=4.5)) == {"a"}
    assert await hits(MetadataFilter("lang", any_of=("en", "fr"))) == {"a", "c"}
    assert await hits(MetadataFilter("year", range=Range(gte=2022))) == {"b", "c"}
    assert await hits(MetadataFilter("year", range=Range(gt=2020, lt=2024))) == {"b"}
    assert await hits(MetadataFilter("year", range=Range(lte=2022))) == {"a", "b"}
    assert await hits(MetadataFilter("rating", range=Range(gt=3.0))) == {"a"}
    # Several filters are a conjunction.
    assert await hits(MetadataFilter("public", equals=True), MetadataFilter("year", range=Range(lt=2024))) == {"a"}
    assert await hits(MetadataFilter("missing", equals="x")) == set()


async def test_invalid_filters_are_rejected(store: Any) -> None:
    for bad in (
        MetadataFilter("lang"),
        MetadataFilter("lang", equals="en", any_of=("en",)),
        MetadataFilter("year", range=Range()),
        MetadataFilter("", equals="x"),
    ):
        with pytest.raises(InvalidArgument):
            await store.search("t", unit(1), 5, [bad], 0.0)
    with pytest.raises(InvalidArgument):
        await store.search("t", [1.0] * (DIM + 1), 5, [], 0.0)
    with pytest.raises(InvalidArgument):
        await store.upsert("t", [record("x", [1.0] * (DIM - 1))])


async def test_score_threshold(store: Any) -> None:
    await store.upsert("t", [record("same", unit(1)), record("close", unit(1, 0.5)), record("opposite", unit(-1))])
    assert ids(await store.search("t", unit(1), 10, [], 0.8)) == ["same", "close"]
    assert ids(await store.search("t", unit(1), 10, [], 0.99)) == ["same"]
    # 0 is "no threshold": the negative-scoring chunk is still returned.
    assert "opposite" in ids(await store.search("t", unit(1), 10, [], 0.0))


async def test_reupsert_is_idempotent(store: Any) -> None:
    batch = [record(f"c{i}", unit(1, i), index=i) for i in range(5)]
    assert await store.upsert("t", batch) == 5
    assert await store.upsert("t", batch) == 5
    assert await store.count("t") == 5
    # A redelivered chunk with new content overwrites the point in place.
    await store.upsert("t", [record("c0", unit(0, 1), version=2)])
    assert await store.count("t") == 5
    top = (await store.search("t", unit(0, 1), 1, [], 0.0))[0]
    assert (top.chunk.chunk_id, top.chunk.version) == ("c0", 2)
    assert await store.upsert("t", []) == 0


async def test_delete_document(store: Any) -> None:
    await store.upsert("t", [record(f"v1-{i}", unit(1, i), document_id="doc", version=1) for i in range(3)])
    await store.upsert("t", [record(f"v2-{i}", unit(1, i), document_id="doc", version=2) for i in range(2)])
    await store.upsert("t", [record("other", unit(1), document_id="other", version=1)])
    await store.upsert("u", [record("same-doc-other-tenant", unit(1), document_id="doc", version=1)])

    await store.delete_document("t", "doc", 2)  # drop versions below 2 only
    assert await store.count("t", "doc") == 2
    left = await store.search("t", unit(1), 10, [], 0.0)
    assert {c.chunk.version for c in left if c.chunk.document_id == "doc"} == {2}

    await store.delete_document("t", "doc", 0)  # 0: every version
    assert await store.count("t", "doc") == 0
    assert await store.count("t", "other") == 1
    assert await store.count("u", "doc") == 1


async def test_zero_top_k_and_closed_store(store: Any) -> None:
    await store.upsert("t", [record("a", unit(1))])
    assert await store.search("t", unit(1), 0, [], 0.0) == []
    await store.close()
    assert not await store.ready()
    await store.close()  # idempotent
