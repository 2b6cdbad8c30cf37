from __future__ import annotations

import itertools
from pydoc_data.topics import topics

import pytest

from ragmesh_kit.tokens import TokenCounter
from services.indexer.app.chunker import Chunker, ChunkingPolicy


@pytest.fixture(scope="module")
def tokens() -> TokenCounter:
    return TokenCounter()


def test_chunks_respect_the_token_limit_and_keep_every_sentence(tokens: TokenCounter) -> None:
    text = topics["with"]
    chunker = Chunker(tokens, ChunkingPolicy(max_tokens=120, overlap_tokens=20))
    chunks = chunker.split(text)
    assert len(chunks) > 3
    assert all(tokens.count(chunk) <= 120 for chunk in chunks)
    joined = " ".join(chunks)
    for word in set(text.split()):
        assert word in joined


def test_neighbouring_chunks_overlap_by_whole_sentences(tokens: TokenCounter) -> None:
    sentences = [f"Sentence number {i} talks about topic {i}." for i in range(40)]
    chunks = Chunker(tokens, ChunkingPolicy(max_tokens=60, overlap_tokens=15)).split(" ".join(sentences))
    for previous, following in itertools.pairwise(chunks):
        last_sentence = previous.split(". ")[-1].rstrip(".")
        assert last_sentence in following


def test_structure_is_kept_headings_lists_tables_and_code(tokens: TokenCounter) -> None:
    text = (
        "A heading\n=========\n\nfirst sentence\nwrapped here. second one\n\n"
        "- item one\n- item two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n   >>> f(1)\n   2\n"
    )
    chunks = Chunker(tokens, ChunkingPolicy(max_tokens=200, overlap_tokens=0)).split(text)
    assert chunks == [
        "A heading\n=========\n\nfirst sentence wrapped here. second one\n\n"
        "- item one\n- item two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n   >>> f(1)\n   2"
    ]


def test_a_chunk_under_a_heading_starts_with_it_and_a_table_keeps_its_header(tokens: TokenCounter) -> None:
    rows = "\n".join(f"| setting_{i} | value number {i} of the table |" for i in range(40))
    text = f"# Limits\n\n## Table\n\n| setting | value |\n|---|---|\n{rows}\n\nAfter the table.\n"
    chunks = Chunker(tokens, ChunkingPolicy(max_tokens=80, overlap_tokens=10)).split(text)
    assert len(chunks) > 3
    for chunk in chunks[1:]:
        assert chunk.startswith("## Table\n\n"), chunk
        if "| setting_" in chunk:
            assert chunk.startswith("## Table\n\n| setting | value |\n|---|---|\n| setting_"), chunk
    assert all(tokens.count(chunk) <= 80 for chunk in chunks)
    for i in range(40):  # every row is in some chunk, whole
        assert any(f"| setting_{i} | value number {i} of the table |" in chunk for chunk in chunks)


def test_a_line_ending_with_a_colon_stays_with_what_follows(tokens: TokenCounter) -> None:
    text = (
        " ".join(f"Sentence {i} fills the chunk." for i in range(12)) + " It is done as follows:\n\n   code_line(1)\n"
    )
    chunks = Chunker(tokens, ChunkingPolicy(max_tokens=60, overlap_tokens=0)).split(text)
    assert not any(chunk.rstrip().endswith("as follows:") for chunk in chunks)
    assert any("as follows:\n\n   code_line(1)" in chunk for chunk in chunks)


def test_an_over_long_sentence_is_split_by_tokens(tokens: TokenCounter) -> None:
    long_sentence = " ".join(f"word{i}" for i in range(500))
    chunks = Chunker(tokens, ChunkingPolicy(max_tokens=50, overlap_tokens=0)).split(long_sentence)
    assert len(chunks) >= 10
    assert all(tokens.count(chunk) <= 51 for chunk in chunks)


def test_blank_text_gives_no_chunks(tokens: TokenCounter) -> None:
    assert Chunker(tokens, ChunkingPolicy()).split(" \n\n \t") == []


def test_policy_refuses_overlap_as_large_as_the_chunk() -> None:
    with pytest.raises(ValueError):
        ChunkingPolicy(max_tokens=50, overlap_tokens=40)
