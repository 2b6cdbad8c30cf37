"""Terms and BM25 weights of the sparse vectors behind hybrid retrieval."""

from __future__ import annotations

import pytest

from services.retriever.app.term_weights import document_terms, query_terms, term_id, terms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What does os.path.join() do?", ["os.path.join", "os", "path", "join"]),
        ("the --top-k flag", ["top-k", "--top-k", "top", "flag"]),
        (
            "AsyncRagmeshClient.search",
            ["asyncragmeshclient.search", "asyncragmeshclient", "async", "ragmesh", "client", "search"],
        ),
        ("max_chunks_per_document is 3.", ["max_chunks_per_document", "max", "chunk", "per", "document"]),
        ("std::vector and -v", ["std::vector", "std", "vector", "-v"]),
        ("python -B", ["python", "-B"]),
        ("The statements", ["statement"]),
    ],
)
def test_identifiers_are_kept_whole_and_split_into_parts(text: str, expected: list[str]) -> None:
    assert terms(text) == expected


def test_a_flag_and_an_identifier_match_their_chunk() -> None:
    chunk = set(document_terms("Pass --top-k 5 to os.path.join the results.").indices)
    assert set(query_terms("--top-k").indices) <= chunk
    assert set(query_terms("os.path.join").indices) <= chunk
    assert term_id("os.path.join") not in set(document_terms("os.path.split and a join").indices)
    assert set(query_terms("-B").indices).isdisjoint(document_terms("-b : issue warnings").indices)


def test_weights_saturate_with_repeats_and_queries_count_each_term_once() -> None:
    def weight(text: str, term: str) -> float:
        vector = document_terms(text)
        return vector.values[vector.indices.index(term_id(term))]

    once, twice, ten = weight("join", "join"), weight("join join", "join"), weight(" ".join(["join"] * 10), "join")
    assert once < twice < ten < 2.2  # BM25 saturation: at most k1 + 1
    assert weight("join " + "other " * 200, "join") < weight("join", "join")  # longer chunks weigh less
    query = query_terms("join join JOIN")
    assert query.indices == [term_id("join")] and query.values == [1.0]
    assert query_terms("what is it?").indices == []


def test_term_ids_are_stable() -> None:
    # Stored vectors depend on these ids: a change here needs a reindex.
    assert term_id("join") == 2050587410
    assert document_terms("b a").indices == sorted(document_terms("b a").indices)
