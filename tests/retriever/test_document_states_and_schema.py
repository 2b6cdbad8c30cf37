"""Document states, counts, declared-field indexes and datetime filters on both Qdrant adapters, and
the Qdrant spans around store calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from ragmesh_kit.domain import ACCEPTED, DELETED, INDEXED, DocumentStatus, MetadataFilter, Range
from services.retriever.adapters.qdrant_edge_store import QdrantEdgeStore
from services.retriever.adapters.traced_store import TracedChunkStore
from services.retriever.app.document_states import DocumentStates, kept_state
from tests.retriever.store_helpers import DIM, record, unit


async def test_states_keep_the_newer_version_per_tenant_and_document(store: Any) -> None:
    states = DocumentStates(store)
    assert await states.get("t", "d") is None
    assert await states.record("t", DocumentStatus("d", INDEXED, 2, chunk_count=3)) == DocumentStatus(
        "d", INDEXED, 2, 3
    )
    # A late ACCEPTED of the same version and an older DELETED are both outranked.
    assert (await states.record("t", DocumentStatus("d", ACCEPTED, 2))).state == INDEXED
    assert (await states.record("t", DocumentStatus("d", DELETED, 1))).version == 2
    assert await states.get("t", "d") == DocumentStatus("d", INDEXED, 2, 3)
    assert await states.get("u", "d") is None  # tenants never share a state
    assert (await states.record("t", DocumentStatus("d", DELETED, 3, reason="gone"))).state == DELETED
    assert await states.get("t", "d") == DocumentStatus("d", DELETED, 3, 0, "gone")


async def test_states_survive_a_reopen(tmp_path: Path) -> None:
    path = str(tmp_path / "shard")
    store = await QdrantEdgeStore.open(path, DIM)
    await store.record_document_state("t", DocumentStatus("d", INDEXED, 5, 2), kept_state)
    await store.close()
    store = await QdrantEdgeStore.open(path, DIM)
    try:
        assert await store.get_document_state("t", "d") == DocumentStatus("d", INDEXED, 5, 2)
    finally:
        await store.close()


async def test_count_per_tenant_and_document(store: Any) -> None:
    await store.upsert("t", [record(f"a{i}", unit(1, i), document_id="a") for i in range(3)])
    await store.upsert("t", [record("b0", unit(0, 1), document_id="b")])
    assert (await store.count("t"), await store.count("t", "a"), await store.count("t", "b")) == (4, 3, 1)
    assert await store.count("t", "missing") == 0 and await store.count("other") == 0


@pytest.mark.parametrize("kind", ["edge", "server"])
async def test_declared_fields_get_indexes_and_datetime_filters_work(kind: str, tmp_path: Path) -> None:
    fields = {"published": "datetime", "year": "int", "lang": "keyword", "public": "bool", "score": "float"}
    if kind == "edge":
        store: Any = await QdrantEdgeStore.open(str(tmp_path / "s"), DIM, metadata_fields=fields)
        schema = store._shard.info().payload_schema
        assert {"meta.published", "meta.year", "meta.lang", "meta_bool.public", "meta.score"} <= set(schema)
    else:
        from tests.retriever.conftest import open_server_store

        store = await open_server_store()
        store._datetime_fields = {"published"}
    try:
        await store.upsert(
            "t",
            [
                record("old", unit(1), metadata={"published": "2020-01-01T00:00:00Z"}),
                record("new", unit(1, 0.1), metadata={"published": "2024-05-01T10:00:00Z"}),
            ],
        )
        since_2023 = MetadataFilter("published", range=Range(gte=1_672_531_200))  # 2023-01-01 in Unix seconds
        assert [h.chunk.chunk_id for h in await store.search("t", unit(1), 5, [since_2023], 0.0)] == ["new"]
        exactly = MetadataFilter("published", equals="2020-01-01T00:00:00+00:00")
        assert [h.chunk.chunk_id for h in await store.search("t", unit(1), 5, [exactly], 0.0)] == ["old"]
    finally:
        await store.close()


async def test_store_calls_are_traced_without_document_text(tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    inner = await QdrantEdgeStore.open(str(tmp_path / "s"), DIM)
    store = TracedChunkStore(inner, provider.get_tracer("test"), "chunks", "chunks_document_states")
    try:
        await store.upsert("t", [record("c", unit(1))])
        await store.search("t", unit(1), 3, [], 0.0)
        await store.record_document_state("t", DocumentStatus("doc-1", INDEXED, 1, 1), kept_state)
    finally:
        await store.close()
    spans = exporter.get_finished_spans()
    attributes = [dict(s.attributes or {}) for s in spans]
    assert [a["db.operation.name"] for a in attributes] == ["upsert", "query", "upsert"]
    for found in attributes:
        assert found["db.system"] == "qdrant" and found["ragmesh.tenant_id"] == "t"
        assert "text of c" not in str(found)
    assert attributes[2]["db.collection.name"] == "chunks_document_states"
