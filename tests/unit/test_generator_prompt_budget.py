"""Prompt assembly: the context budget is respected exactly and near-duplicates are dropped."""

from __future__ import annotations

import dataclasses
from pydoc_data.topics import topics

from hypothesis import given, settings
from hypothesis import strategies as st

from ragmesh_kit.domain import Chunk, ScoredChunk
from ragmesh_kit.redaction import Redactor
from ragmesh_kit.tokens import TokenCounter
from services.generator.app.prompt import PromptBuilder, _source_block, head_text, tail_text


def _scored(doc: str, text: str, score: float) -> ScoredChunk:
    return ScoredChunk(Chunk(f"{doc}#0", doc, 0, 1, f"Title {doc}", text, {}), score)


def test_context_tokens_are_exact_and_nothing_more_fits() -> None:
    tokens = TokenCounter()
    names = ["pass", "break", "continue", "global", "nonlocal", "del", "return", "assert"]
    chunks = [_scored(name, topics[name][:900], 0.9 - i / 20) for i, name in enumerate(names)]
    question = "What does the del statement do?"
    for budget in (0, 150, 300, 700, 1200):
        prompt = PromptBuilder(tokens).build(question, chunks, budget)
        blocks = [_source_block(source.label, source.scored) for source in prompt.sources]
        assert prompt.context_tokens == sum(tokens.count(block) for block in blocks)
        assert prompt.context_tokens <= budget
        # The whole prompt is exactly head + sources + tail, counted the same way.
        assert prompt.text == head_text() + "".join(blocks) + tail_text(question)
        assert prompt.prompt_tokens == tokens.count(prompt.text)
        assert prompt.prompt_tokens == tokens.count(head_text()) + prompt.context_tokens + tokens.count(
            tail_text(question)
        )
        # Every chunk left out would have overflowed the budget.
        included = {source.scored.chunk.document_id for source in prompt.sources}
        for label, scored in enumerate(chunks, start=len(prompt.sources) + 1):
            if scored.chunk.document_id not in included:
                assert prompt.context_tokens + tokens.count(_source_block(label, scored)) > budget


def test_near_duplicates_are_dropped_and_different_chunks_kept() -> None:
    base = topics["pass"][:600]
    near = base.replace("statement", "statement ").replace("null", "null") + " Indeed."
    chunks = [_scored("a", base, 0.9), _scored("b", near, 0.85), _scored("c", topics["break"][:600], 0.8)]
    prompt = PromptBuilder(TokenCounter(), near_duplicate_jaccard=0.9).build("q", chunks, 10_000)
    assert [source.scored.chunk.document_id for source in prompt.sources] == ["a", "c"]
    strict = PromptBuilder(TokenCounter(), near_duplicate_jaccard=1.01).build("q", chunks, 10_000)
    assert len(strict.sources) == 3


@settings(max_examples=300, deadline=None)
@given(
    question=st.text(min_size=1, max_size=80),
    texts=st.lists(st.text(min_size=1, max_size=200), min_size=0, max_size=6),
    titles=st.lists(st.text(max_size=20), min_size=6, max_size=6),
)
def test_prompt_tokens_equal_the_count_of_the_whole_prompt(question: str, texts: list[str], titles: list[str]) -> None:
    # Any text at the edges of the question and the sources (odd Unicode, newlines, "<<<"): the
    # parts' counts must add up to the whole prompt's count.
    tokens = TokenCounter()
    chunks = [
        ScoredChunk(Chunk(f"d{i}#0", f"d{i}", 0, 1, titles[i], text, {}), 0.9 - i / 10) for i, text in enumerate(texts)
    ]
    prompt = PromptBuilder(tokens).build(question, chunks, 2000)
    assert prompt.prompt_tokens == tokens.count(prompt.text)


def _with_stored_counts(chunks: list[ScoredChunk], tokens: TokenCounter) -> list[ScoredChunk]:
    return [
        ScoredChunk(dataclasses.replace(s.chunk, text_tokens=tokens.source_tokens(s.chunk.text)), s.score)
        for s in chunks
    ]


@settings(max_examples=300, deadline=None)
@given(
    question=st.text(min_size=1, max_size=40),
    texts=st.lists(st.text(min_size=1, max_size=200), min_size=1, max_size=6),
    redacting=st.booleans(),
)
def test_token_counts_stored_at_index_time_give_the_same_prompt(
    question: str, texts: list[str], redacting: bool
) -> None:
    # Whatever the text (delimiters, PII that redaction rewrites, odd whitespace): a prompt built
    # from the counts stored with the chunks is the prompt built by tokenizing them, budget included.
    tokens = TokenCounter()
    chunks = [ScoredChunk(Chunk(f"d{i}#0", f"d{i}", 0, 1, "T", text, {}), 0.9 - i / 10) for i, text in enumerate(texts)]
    builder = PromptBuilder(tokens, redact=Redactor() if redacting else None)
    for budget in (60, 2000):
        counted = builder.build(question, chunks, budget)
        stored = builder.build(question, _with_stored_counts(chunks, tokens), budget)
        assert (stored.text, stored.prompt_tokens, stored.context_tokens) == (
            counted.text,
            counted.prompt_tokens,
            counted.context_tokens,
        )
        assert stored.prompt_tokens == tokens.count(stored.text)


def test_stored_counts_on_reference_documents() -> None:
    tokens = TokenCounter()
    chunks = [_scored(name, topics[name][:900], 0.9) for name in ("pass", "break", "with", "try", "lambda")]
    counted = PromptBuilder(tokens, redact=Redactor()).build("q?", chunks, 5000)
    stored = PromptBuilder(tokens, redact=Redactor()).build("q?", _with_stored_counts(chunks, tokens), 5000)
    assert stored.context_tokens == counted.context_tokens and stored.text == counted.text
    # A stored count is used, not recomputed: a wrong one shows in the total.
    wrong = [ScoredChunk(dataclasses.replace(s.chunk, text_tokens=1), s.score) for s in chunks]
    assert PromptBuilder(tokens).build("q?", wrong, 5000).context_tokens < counted.context_tokens
