"""The extractive answerer in the generator process gives what the Triton model "generator"
streams for the same prompt and options (same code, ragmesh_answering), and refuses bad options
at start-up."""

from __future__ import annotations

import pytest

from ragmesh_answering import extractive
from ragmesh_kit.domain import Chunk, ScoredChunk
from ragmesh_kit.tokens import TokenCounter
from services.generator.adapters.extractive_text_generation import ExtractiveTextGeneration
from services.generator.app.ports import ModelUsage
from services.generator.app.prompt import PromptBuilder

PROMPT_CHUNKS = [
    ("doc-keys", "API keys", "Rotate an API key with ragmesh keys rotate. The old key keeps working for one hour."),
    ("doc-trace", "Tracing", "Every request is one trace in Jaeger. Spans never hold document text."),
]


def _prompt(question: str) -> str:
    chunks = [
        ScoredChunk(Chunk(f"{doc}#0", doc, 0, 1, title, text, {}), 0.9 - n / 10)
        for n, (doc, title, text) in enumerate(PROMPT_CHUNKS)
    ]
    return PromptBuilder(TokenCounter()).build(question, chunks, 1500).text


async def _pieces(model: ExtractiveTextGeneration, prompt: str, max_tokens: int = 256) -> list[str | ModelUsage]:
    return [piece async for piece in model.generate(prompt, max_tokens)]


async def test_same_answer_and_pieces_as_the_triton_model() -> None:
    prompt = _prompt("How do I rotate an API key?")
    pieces = await _pieces(ExtractiveTextGeneration({}), prompt)
    # What models/triton/generator/1/model.py streams with its default options.
    expected = extractive.group_by_sentence(extractive.pieces(extractive.answer(prompt)))
    assert pieces == expected
    assert "ragmesh keys rotate" in "".join(str(p) for p in pieces)
    assert "".join(str(p) for p in pieces).rstrip().endswith("[1]")


async def test_max_tokens_caps_the_words_and_word_pieces_on_request() -> None:
    prompt = _prompt("How do I rotate an API key?")
    words = await _pieces(ExtractiveTextGeneration({"piece_granularity": "word"}), prompt, max_tokens=3)
    assert len(words) == 3
    assert words == extractive.pieces(extractive.answer(prompt))[:3]


def test_bad_option_stops_start_up() -> None:
    with pytest.raises(ValueError, match="max_sentences"):
        ExtractiveTextGeneration({"max_sentences": 0})


async def test_a_large_prompt_is_composed_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from services.generator.adapters import extractive_text_generation as adapter

    threads: list[str] = []
    real = extractive.answer

    def recording(*args: object) -> str:
        threads.append(threading.current_thread().name)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(extractive, "answer", recording)
    model = ExtractiveTextGeneration({})
    small = _prompt("How do I rotate an API key?")
    await _pieces(model, small)
    monkeypatch.setattr(adapter, "INLINE_PROMPT_CHARS", len(small) - 1)
    await _pieces(model, small)
    assert threads[0] == threading.main_thread().name
    assert threads[1] != threading.main_thread().name
