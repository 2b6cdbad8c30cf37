"""Delimiters inside sources are look-alikes in the prompt and the source's own text in what a user
reads; citations find their quote even when the source holds bracketed numbers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from ragmesh_kit.domain import Chunk, ScoredChunk
from ragmesh_kit.tokens import TokenCounter
from services.generator.app.citations import extract_citations
from services.generator.app.generate_answer import AnswerDelta, AnswerDone, GenerateAnswer, GenerationLimits
from services.generator.app.prompt import Escaping, PromptBuilder, StreamRestorer

DOCTEST = "Exception chaining can be suppressed:\n\n   >>> raise RuntimeError('bad') from None\n"


def _scored(doc: str, text: str, score: float = 0.9) -> ScoredChunk:
    return ScoredChunk(Chunk(f"{doc}#0", doc, 0, 1, f"Title {doc}", text, {}), score)


def test_prompt_escapes_delimiters_and_restores_them() -> None:
    prompt = PromptBuilder(TokenCounter()).build("How is chaining suppressed?", [_scored("d", DOCTEST)], 1000)
    assert ">>> raise" not in prompt.text and "‹‹‹" not in prompt.text
    assert "››› raise RuntimeError" in prompt.text
    assert (
        prompt.restore("››› raise RuntimeError('bad') from None [1]") == ">>> raise RuntimeError('bad') from None [1]"
    )


def test_a_source_holding_the_look_alikes_gets_another_pair() -> None:
    text = "The prompt writes `‹‹‹`/`›››` for <<< and >>>."
    prompt = PromptBuilder(TokenCounter()).build("q", [_scored("d", text)], 1000)
    assert prompt.escaping != Escaping()
    assert "`‹‹‹`/`›››`" in prompt.text and "<<< and" not in prompt.text
    # Restoring gives the source's text back, look-alikes of its own included.
    assert prompt.restore(prompt.escaping.escape(text)) == text


def test_stream_restorer_joins_a_look_alike_split_across_pieces() -> None:
    restorer = StreamRestorer(Escaping())
    out = [restorer.feed(piece) for piece in ["a ›", "››", " b ‹", "‹‹ c", " ›"]]
    out.append(restorer.flush())
    assert "".join(out) == "a >>> b <<< c ›"
    assert out[0] == "a "  # the partial look-alike waits for the next piece


def test_a_footnote_in_the_source_does_not_end_the_quote() -> None:
    text = "The search continues on the invocation stack.  [1]\n\nIt ends there."
    prompt = PromptBuilder(TokenCounter()).build("q", [_scored("a", "Alpha.", 0.8), _scored("b", text)], 1000)
    answer = "The search continues on the invocation stack. [1] [1] Alpha. [2]"
    citations = extract_citations(answer, prompt.sources)
    assert [(c.document_id, c.quote) for c in citations] == [
        ("b", "The search continues on the invocation stack. [1]"),
        ("a", "Alpha."),
    ]


class _EchoModel:
    """Answers with the escaped doctest line in two pieces that split the look-alike."""

    name = "echo"

    async def generate(self, prompt: str, max_tokens: int) -> AsyncIterator[str]:
        line = next(line.strip() for line in prompt.splitlines() if "raise RuntimeError" in line)
        yield line[:2]
        yield line[2:] + " [1]"

    async def ready(self) -> bool:
        return True


def test_generated_answer_and_citation_quote_are_the_source_text() -> None:
    limits = GenerationLimits(1500, 6000, 256, 256, 1024, 64)
    use_case = GenerateAnswer(_EchoModel(), TokenCounter(), limits)

    async def run() -> list[AnswerDelta | AnswerDone]:
        return [event async for event in use_case("How is chaining suppressed?", [_scored("d", DOCTEST)])]

    events = asyncio.run(run())
    done = events[-1]
    assert isinstance(done, AnswerDone)
    streamed = "".join(event.text for event in events if isinstance(event, AnswerDelta))
    assert done.answer == streamed.strip() == ">>> raise RuntimeError('bad') from None [1]"
    assert done.citations[0].quote == ">>> raise RuntimeError('bad') from None"
    assert done.citations[0].quote in DOCTEST
