"""The generator's use case (prompt, llm on Triton, grounding guard, extractive fallback) on the real
SmolLM2-135M and the golden set: the answers the guard lets through are supported, invented
sentences are dropped, and the usage is the model's own token count."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from bench.golden import corpus as golden_corpus
from ragmesh_kit.domain import EXTRACTIVE_FALLBACK, GROUNDED, SENTENCES_DROPPED, Chunk, ScoredChunk
from ragmesh_kit.tokens import TokenCounter
from ragmesh_kit.triton import TritonClient
from services.generator.adapters.triton_text_generation import TritonTextGeneration
from services.generator.app.generate_answer import (
    AnswerDelta,
    AnswerDone,
    GenerateAnswer,
    GenerationLimits,
    GroundingPolicy,
)
from services.generator.app.grounding import GroundingGuard, sentences
from tests.models.conftest import LlmServer

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden"
MIN_SUPPORT = 0.6
LIMITS = GenerationLimits(1500, 6000, 256, 128, 1024, 64)


def _golden() -> list[tuple[str, list[str], list[ScoredChunk]]]:
    corpus = golden_corpus()  # files (markdown, HTML, PDF) as the indexer parses them
    by_id = {doc["document_id"]: doc for doc in corpus}
    cases = []
    for index, item in enumerate(json.loads((GOLDEN / "questions.json").read_text())):
        if item["category"] != "plain":
            continue  # the plain facts: unanswerable ones have no source, lists and tables need extraction
        others = [doc for doc in by_id if doc != item["expected_document"]]
        ids = [item["expected_document"], *others[index % 3 : index % 3 + 2]]
        chunks = [
            ScoredChunk(Chunk(f"{i}#0", i, 0, 1, by_id[i]["title"], by_id[i]["text"], {}), 0.9 - 0.1 * rank)
            for rank, i in enumerate(ids)
        ]
        cases.append((item["question"], item["expected_facts"], chunks))
    return cases


async def _answer(server: LlmServer, question: str, context: list[ScoredChunk]) -> tuple[str, AnswerDone]:
    async with grpc.aio.insecure_channel(server.address) as channel:
        client = TritonClient(channel, 120)
        model = TritonTextGeneration(client, "llm", {"temperature": 0, "stop": ["\n\n"]})
        fallback = TritonTextGeneration(client, "generator", {})
        use_case = GenerateAnswer(
            model, TokenCounter(), LIMITS, grounding=GroundingPolicy(GroundingGuard(MIN_SUPPORT), fallback)
        )
        raw, done = "", None
        events: AsyncIterator[AnswerDelta | AnswerDone] = use_case(question, context)
        async for event in events:
            if isinstance(event, AnswerDelta):
                raw += event.text
            else:
                done = event
        assert done is not None
        return raw, done


@pytest.fixture(scope="module")
def golden_answers(llm_server: LlmServer) -> list[tuple[str, list[str], str, AnswerDone]]:
    import asyncio

    async def run_all() -> list[tuple[str, list[str], str, AnswerDone]]:
        out = []
        for question, facts, context in _golden():
            raw, done = await _answer(llm_server, question, context)
            out.append((question, facts, raw, done))
        return out

    return asyncio.run(run_all())


def test_golden_answers_keep_only_supported_sentences(golden_answers) -> None:
    guard = GroundingGuard(MIN_SUPPORT)
    facts_found = 0
    for question, facts, raw, done in golden_answers:
        grounding = done.grounding
        assert grounding is not None
        found = all(fact.lower() in done.answer.lower() for fact in facts)
        facts_found += found
        print(f"{grounding.outcome:<20} fact={found} {question}\n  raw: {raw!r}\n  final: {done.answer!r}")
        if grounding.outcome in (GROUNDED, SENTENCES_DROPPED):
            assert grounding.answer_model == "llm"
            assert done.citations, done.answer
            sources = {c.label for c in done.citations}
            assert sources, done.answer
        # The model's own counts (SmolLM2's tokenizer), charged by the gateway's quotas.
        assert done.usage.prompt_tokens > 0 and done.usage.completion_tokens > 0
    # How often the small model's grounded answer holds the fact is a quality figure (docs/llm.md),
    # not a pass mark: measured 9 of the 21 plain golden questions with SmolLM2-135M (7 of the first 19;
    # 5 of them with the former system message).
    print(f"golden facts in the final answer: {facts_found}/{len(golden_answers)}")
    del guard


def test_the_guard_drops_what_the_model_invents(golden_answers) -> None:
    outcomes = [done.grounding.outcome for _, _, _, done in golden_answers if done.grounding]
    # On this set SmolLM2-135M adds unsupported sentences to some answers; none of them reaches the user.
    assert {SENTENCES_DROPPED, EXTRACTIVE_FALLBACK} & set(outcomes), outcomes
    for _, _, raw, done in golden_answers:
        assert done.grounding is not None
        if done.grounding.outcome == SENTENCES_DROPPED:
            dropped = [s for s in sentences(raw) if s.rstrip(".") not in done.answer]
            assert dropped and done.grounding.sentences_dropped >= 1
