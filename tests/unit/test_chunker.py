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


def test_paragraph_breaks_end_a_sentence_unit(tokens: TokenCounter) -> None:
    chunker = Chunker(tokens, ChunkingPolicy(max_tokens=16, overlap_tokens=0))
    chunks = chunker.split("A heading\n=========\n\nfirst sentence here. second one\n\nthird")
    assert chunks == ["A heading =========\n\nfirst sentence here. second one\n\nthird"]


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
