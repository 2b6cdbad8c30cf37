"""Tenant isolation as a property: random tenant ids (odd Unicode, near-identical pairs) and random
documents written to the retriever directly are never found by a search or count of another
tenant, and documents of the gateway's tenant "default" are never cited for tenant "tenant-b"."""

from __future__ import annotations

import itertools
import random
import secrets

import grpc
from hypothesis import assume, given
from hypothesis import strategies as st

from ragmesh.common.v1 import types_pb2
from ragmesh.retriever.v1 import retriever_pb2, retriever_pb2_grpc
from tests.stack import test_bad_input_helpers as h
from tests.stack.conftest import RunningStack
from tests.stack.test_query_helpers import ask, ask_until_cited, submit

RUN = secrets.token_hex(4)
# Pairs that look alike: case, spacing, normalisation (é vs e + combining accent), NUL, zero-width.
LOOKALIKES = [("T", "t"), ("t", "t "), ("\u00e9", "e\u0301"), ("a", "a\x00"), ("a", "a\u200b"), ("x", "x/")]


def _vector(seed: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(-1, 1) for _ in range(h.DIMENSION)]


def _records(document_id: str, chunk_ids: list[str], seed: int) -> list[retriever_pb2.ChunkRecord]:
    return [
        retriever_pb2.ChunkRecord(
            chunk=types_pb2.Chunk(chunk_id=c, document_id=document_id, version=1, title="t", text=f"text {c}"),
            vector=_vector(seed + i),
        )
        for i, c in enumerate(chunk_ids)
    ]


tenant_pairs = st.one_of(
    st.sampled_from(LOOKALIKES), st.tuples(h.odd_text(20).filter(bool), h.odd_text(20).filter(bool))
)


def test_retriever_never_returns_another_tenants_chunks(running_stack: RunningStack) -> None:
    examples = itertools.count()
    with grpc.insecure_channel(running_stack.address("retriever")) as channel:
        stub = retriever_pb2_grpc.RetrieverServiceStub(channel)

        @h.cases_of(40)
        @given(
            pair=tenant_pairs,
            chunk_ids=st.lists(h.odd_text(12).filter(bool), min_size=1, max_size=4, unique=True),
            seed=st.integers(0, 10**6),
        )
        def isolated(pair: tuple[str, str], chunk_ids: list[str], seed: int) -> None:
            assume(pair[0] != pair[1])
            number = next(examples)  # fresh tenants per example (hypothesis may repeat one)
            tenant_a, tenant_b = (f"iso-{RUN}-{number}-{t}" for t in pair)
            # The same chunk ids in both tenants: one must never overwrite or reveal the other.
            stub.Upsert(retriever_pb2.UpsertRequest(tenant_id=tenant_a, records=_records("doc-a", chunk_ids, seed)))
            stub.Upsert(retriever_pb2.UpsertRequest(tenant_id=tenant_b, records=_records("doc-b", chunk_ids[:1], seed)))
            for tenant, own_document, own_count in ((tenant_a, "doc-a", len(chunk_ids)), (tenant_b, "doc-b", 1)):
                count = stub.CountChunks(retriever_pb2.CountChunksRequest(tenant_id=tenant), timeout=10).count
                assert count == own_count, (tenant, count)
                for i in range(len(chunk_ids)):
                    found = stub.Search(
                        retriever_pb2.SearchRequest(tenant_id=tenant, vector=_vector(seed + i), top_k=10), timeout=10
                    ).chunks
                    assert {c.chunk.document_id for c in found} == {own_document}, (tenant, found)

        isolated()


def test_gateway_tenants_never_see_each_others_documents(running_stack: RunningStack, gateway) -> None:
    key_a, key_b = running_stack.api_key, running_stack.api_key_tenant_b
    documents: list[tuple[str, str]] = []

    @h.cases_of(6)
    @given(words=st.lists(st.from_regex(r"[a-z]{5,9}", fullmatch=True), min_size=4, max_size=8, unique=True))
    def collect(words: list[str]) -> None:
        documents.append((f"giso-{RUN}-{len(documents)}", f"The {RUN}{words[0]} archive holds " + " ".join(words)))

    collect()
    for document_id, text in documents:
        submit(gateway, key_a, document_id, "Private", text + ".")
    # All six documents look alike to the embedding model (same shape, same run prefix), so the owner
    # asks wide (every chunk above a low score reaches the generator): the positive control then
    # depends on indexing only, not on which of six near-twins the vector search ranks first.
    wide = {"min_score": 0.01, "top_k": 50}
    for document_id, text in documents:
        question = f"What does the {text.split()[1]} archive hold?"
        owner_sees = ask_until_cited(gateway, key_a, question, document_id, **wide).citations
        assert document_id in {c.document_id for c in owner_sees}, (document_id, owner_sees)
    for document_id, text in documents:
        marker = text.split()[1]
        question = f"What does the {marker} archive hold?"
        for options in ({"bypass_cache": True}, {**wide, "bypass_cache": True}):
            reply = ask(gateway, key_b, question, **options)
            assert document_id not in {c.document_id for c in reply.citations}
            assert marker not in reply.answer
