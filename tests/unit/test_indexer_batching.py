"""The indexer's batching and ordering rules, and IndexBatch's use of its ports (in-memory doubles:
these tests are about the decisions, the real broker and stores are in tests/stack)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from ragmesh_kit.domain import (
    ACCEPTED,
    DELETE,
    DELETED,
    FAILED,
    INDEXED,
    UPSERT,
    ChunkWithVector,
    DocumentCommand,
    DocumentState,
    DocumentStatus,
)
from ragmesh_kit.errors import DependencyUnavailable, InvalidArgument
from ragmesh_kit.tokens import TokenCounter
from services.indexer.adapters.html_parser import HtmlParser
from services.indexer.app.batch_plan import bounded_groups, latest_per_document, rejection, still_applies
from services.indexer.app.chunker import Chunker, ChunkingPolicy
from services.indexer.app.document_chunks import DocumentChunker
from services.indexer.app.index_batch import BatchOptions, IndexBatch
from services.indexer.app.ports import DocumentParser
from services.indexer.app.structure import StructuredDocument


def up(doc: str, version: int, text: str = "Some text.", tenant: str = "t") -> DocumentCommand:
    return DocumentCommand(UPSERT, tenant, doc, version, doc, text)


def delete(doc: str, version: int) -> DocumentCommand:
    return DocumentCommand(DELETE, "t", doc, version)


def test_latest_event_per_document_wins() -> None:
    batch = [up("a", 1), up("b", 5), up("a", 2), up("b", 3), delete("a", 2), up("a", 1, tenant="u")]
    # a: v1 < v2 = delete v2 (later wins at equal version); b: v5 beats the late v3; u/a alone.
    assert latest_per_document(batch) == {4: [0, 2], 1: [3], 5: []}


def test_recorded_state_decides_whether_an_event_still_applies() -> None:
    def state(kind: DocumentState, version: int) -> DocumentStatus:
        return DocumentStatus("a", kind, version)

    assert still_applies(up("a", 1), None)
    assert not still_applies(up("a", 1), state(INDEXED, 2))  # late older version
    assert not still_applies(up("a", 2), state(INDEXED, 2))  # redelivery of what is done
    assert still_applies(up("a", 3), state(INDEXED, 2))
    assert not still_applies(up("a", 2), state(DELETED, 3))  # no resurrection after a delete
    assert not still_applies(up("a", 3), state(DELETED, 3))
    assert still_applies(up("a", 4), state(DELETED, 3))
    assert still_applies(delete("a", 2), state(INDEXED, 2))
    assert not still_applies(delete("a", 2), state(DELETED, 2))
    assert still_applies(up("a", 1), state(ACCEPTED, 5))  # ACCEPTED/FAILED say nothing about the index
    assert still_applies(up("a", 1), state(FAILED, 5))


def test_rejections_and_bounded_groups() -> None:
    assert rejection(up("a", 1, text=" \n"), 100) is not None
    assert rejection(up("a", 1, text="x" * 101), 100) is not None
    assert rejection(up("a", 1), 100) is None and rejection(delete("a", 1), 100) is None
    assert bounded_groups([3, 3, 3, 10, 1], 6) == [[0, 1], [2], [3], [4]]
    assert bounded_groups([], 6) == []


class FakeEmbedder:
    def __init__(self) -> None:
        self.calls: list[int] = []
        self.fail_times = 0

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if self.fail_times:
            self.fail_times -= 1
            raise DependencyUnavailable("embedder: down")
        if any("REFUSE" in text for text in texts):
            raise InvalidArgument("embedder: refused")
        self.calls.append(len(texts))
        return [[float(len(text)), 1.0] for text in texts]


class FakeWriter:
    def __init__(self) -> None:
        self.points: dict[tuple[str, str], ChunkWithVector] = {}
        self.states: dict[tuple[str, str], DocumentStatus] = {}

    async def upsert(self, tenant_id: str, records: Sequence[ChunkWithVector]) -> int:
        self.points.update({(tenant_id, r.chunk.chunk_id): r for r in records})
        return len(records)

    async def delete_document(self, tenant_id: str, document_id: str, below_version: int) -> None:
        for key, r in list(self.points.items()):
            if key[0] == tenant_id and r.chunk.document_id == document_id:
                if not below_version or r.chunk.version < below_version:
                    del self.points[key]

    async def get_document_state(self, tenant_id: str, document_id: str) -> DocumentStatus | None:
        return self.states.get((tenant_id, document_id))

    async def record_document_state(self, tenant_id: str, status: DocumentStatus) -> DocumentStatus:
        self.states[(tenant_id, status.document_id)] = status
        return status

    def chunks(self, document_id: str) -> list[int]:
        return sorted(r.chunk.version for r in self.points.values() if r.chunk.document_id == document_id)


@pytest.fixture
def parts() -> tuple[IndexBatch, FakeEmbedder, FakeWriter]:
    embedder, writer = FakeEmbedder(), FakeWriter()
    chunker = Chunker(TokenCounter(), ChunkingPolicy(max_tokens=20, overlap_tokens=0))
    return (
        IndexBatch(DocumentChunker(chunker, {}), embedder, writer, BatchOptions(embed_batch=4, max_chars=10_000)),
        embedder,
        writer,
    )


SENTENCES = " ".join(f"Sentence {i} is about the number {i} and nothing else." for i in range(5))


async def test_chunks_of_several_documents_are_embedded_together(parts) -> None:
    index, embedder, writer = parts
    outcomes = await index([up(f"d{i}", 1, SENTENCES) for i in range(3)])
    per_doc = [o.chunks for o in outcomes]
    assert all(o.kind == "indexed" for o in outcomes) and per_doc[0] > 1
    assert sum(embedder.calls) == sum(per_doc) and max(embedder.calls) == 4  # full batches across docs
    assert len(embedder.calls) == -(-sum(per_doc) // 4)
    assert all(writer.states[("t", f"d{i}")] == DocumentStatus(f"d{i}", INDEXED, 1, per_doc[i]) for i in range(3))


async def test_versions_deletes_and_redelivery(parts) -> None:
    index, embedder, writer = parts
    await index([up("a", 1, SENTENCES)])
    assert writer.chunks("a") and set(writer.chunks("a")) == {1}
    outcomes = await index([up("a", 2, "Short."), up("a", 1, SENTENCES)])  # v2, then a late v1
    assert [o.kind for o in outcomes] == ["indexed", "ignored"] and writer.chunks("a") == [2]
    assert (await index([up("a", 1, SENTENCES)]))[0].kind == "ignored"
    calls = len(embedder.calls)
    assert (await index([up("a", 2, "Short.")]))[0].kind == "ignored"  # redelivered: no work
    assert len(embedder.calls) == calls
    assert [o.kind for o in await index([delete("a", 3)])] == ["deleted"]
    assert writer.chunks("a") == [] and writer.states[("t", "a")].state == DELETED
    assert (await index([up("a", 2, "Short.")]))[0].kind == "ignored"  # no resurrection


async def test_transient_failure_propagates_and_a_retry_resumes(parts) -> None:
    index, embedder, _ = parts
    embedder.fail_times = 1
    with pytest.raises(DependencyUnavailable):
        await index([up("a", 1, SENTENCES), up("b", 1, SENTENCES)])
    outcomes = await index([up("a", 1, SENTENCES), up("b", 1, SENTENCES)])
    assert [o.kind for o in outcomes] == ["indexed", "indexed"]


async def test_bad_documents_are_rejected_without_failing_the_batch(parts) -> None:
    index, _, writer = parts
    batch = [up("ok", 1), up("empty", 1, "  "), up("refused", 1, "Please REFUSE this."), up("v0", 0)]
    outcomes = await index(batch)
    assert [o.kind for o in outcomes] == ["indexed", "rejected", "rejected", "rejected"]
    assert outcomes[2].reason == "embedder: refused"
    assert writer.states[("t", "empty")].state == FAILED and writer.chunks("ok") == [1]


class ExplodingParser:
    """A parser with a bug: its failure must reject its document only."""

    def parse(self, content: bytes) -> StructuredDocument:
        raise ZeroDivisionError("bug")


async def test_unreadable_documents_are_rejected_and_failed_while_the_others_are_indexed() -> None:
    embedder, writer = FakeEmbedder(), FakeWriter()
    chunker = Chunker(TokenCounter(), ChunkingPolicy(max_tokens=20, overlap_tokens=0))
    parsers: dict[str, DocumentParser] = {"text/html": HtmlParser(), "text/markdown": ExplodingParser()}
    index = IndexBatch(DocumentChunker(chunker, parsers), embedder, writer, BatchOptions(max_bytes=1000))

    def file(doc: str, content: bytes, media: str) -> DocumentCommand:
        return DocumentCommand(UPSERT, "t", doc, 1, content=content, content_type=media)

    outcomes = await index(
        [
            file("nav-only", b"<nav>Home</nav><script>x()</script>", "text/html"),
            file("buggy", b"# fine markdown", "text/markdown"),
            file("huge", b"<p>" + b"x" * 1000 + b"</p>", "text/html"),
            file("unknown", b"words", "application/msword"),
            file("page", b"<h1>Guide</h1><p>The guide has one sentence.</p>", "text/html"),
        ]
    )
    assert [o.kind for o in outcomes] == ["rejected"] * 4 + ["indexed"]
    assert "has no text" in outcomes[0].reason and "ZeroDivisionError" in outcomes[1].reason
    assert "the limit is 1000 (INDEXER_MAX_DOCUMENT_BYTES)" in outcomes[2].reason
    assert "not supported" in outcomes[3].reason
    for position, doc in enumerate(("nav-only", "buggy", "huge", "unknown")):
        assert writer.states[("t", doc)] == DocumentStatus(doc, FAILED, 1, reason=outcomes[position].reason)
    stored = [record.chunk for record in writer.points.values() if record.chunk.document_id == "page"]
    assert [(chunk.heading, chunk.page) for chunk in stored] == [("Guide", 0)]


async def test_each_chunk_carries_its_prompt_token_count() -> None:
    tokens = TokenCounter()
    chunker = Chunker(tokens, ChunkingPolicy(max_tokens=20, overlap_tokens=0))
    writer = FakeWriter()
    counting = IndexBatch(
        DocumentChunker(chunker, {}), FakeEmbedder(), writer, BatchOptions(embed_batch=4, max_chars=10_000), tokens
    )
    await counting([up("a", 1, SENTENCES)])
    stored = [record.chunk for record in writer.points.values()]
    assert len(stored) > 1 and all(c.text_tokens == tokens.source_tokens(c.text) > 0 for c in stored)
    # Without a counter (or with another encoding than cl100k) nothing is stored: 0, "not counted".
    plain = FakeWriter()
    await IndexBatch(
        DocumentChunker(chunker, {}), FakeEmbedder(), plain, BatchOptions(embed_batch=4, max_chars=10_000)
    )([up("a", 1, SENTENCES)])
    assert all(record.chunk.text_tokens == 0 for record in plain.points.values())
