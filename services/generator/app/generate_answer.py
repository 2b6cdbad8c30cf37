"""Use case: build the prompt within budget, stream the model's answer, then report citations
and token usage."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from opentelemetry import trace

from ragmesh_kit.domain import (
    EXTRACTIVE_FALLBACK,
    GROUNDED,
    NOT_CHECKED,
    SENTENCES_DROPPED,
    Citation,
    Grounding,
    ScoredChunk,
    TokenUsage,
)
from ragmesh_kit.errors import InvalidArgument
from ragmesh_kit.redaction import Redactor
from ragmesh_kit.tokens import TokenCounter
from services.generator.app.citations import extract_citations
from services.generator.app.grounding import GroundingGuard
from services.generator.app.ports import GenerationObserver, ModelUsage, TextGenerationModel
from services.generator.app.prompt import Prompt, PromptBuilder, StreamRestorer

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GenerationLimits:
    default_max_context_tokens: int
    max_context_tokens_limit: int
    max_question_tokens: int
    default_max_output_tokens: int
    max_output_tokens_limit: int
    max_context_chunks: int
    near_duplicate_jaccard: float = 0.9
    # Emails, phone and card numbers in the question and sources are redacted before the prompt.
    redact_pii: bool = True


@dataclass(frozen=True)
class GroundingPolicy:
    """A language model's answer keeps only the sentences the guard finds supported; with none
    left, the ``fallback`` model (extractive) answers the same prompt instead."""

    guard: GroundingGuard
    fallback: TextGenerationModel


@dataclass(frozen=True)
class AnswerDelta:
    text: str


@dataclass(frozen=True)
class AnswerDone:
    answer: str
    citations: list[Citation]
    usage: TokenUsage
    model: str
    grounding: Grounding | None = None


class GenerateAnswer:
    def __init__(
        self,
        model: TextGenerationModel,
        tokens: TokenCounter,
        limits: GenerationLimits,
        observer: GenerationObserver | None = None,
        grounding: GroundingPolicy | None = None,
    ) -> None:
        self._model = model
        self._grounding = grounding
        self._tokens = tokens
        self._prompts = PromptBuilder(tokens, limits.near_duplicate_jaccard, Redactor() if limits.redact_pii else None)
        self._limits = limits
        self._observer = observer

    def _budgets(self, max_context_tokens: int, max_output_tokens: int) -> tuple[int, int]:
        limits = self._limits
        context = max_context_tokens or limits.default_max_context_tokens
        output = max_output_tokens or limits.default_max_output_tokens
        if context > limits.max_context_tokens_limit:
            raise InvalidArgument(f"max_context_tokens is {context}; the limit is {limits.max_context_tokens_limit}")
        if output > limits.max_output_tokens_limit:
            raise InvalidArgument(f"max_output_tokens is {output}; the limit is {limits.max_output_tokens_limit}")
        return context, output

    async def __call__(
        self,
        question: str,
        context: Sequence[ScoredChunk],
        max_context_tokens: int = 0,
        max_output_tokens: int = 0,
    ) -> AsyncIterator[AnswerDelta | AnswerDone]:
        if not question.strip():
            raise InvalidArgument("question is empty")
        question_tokens = self._tokens.count(question)
        if question_tokens > self._limits.max_question_tokens:
            raise InvalidArgument(
                f"question has {question_tokens} tokens; the limit is {self._limits.max_question_tokens}"
            )
        if len(context) > self._limits.max_context_chunks:
            raise InvalidArgument(f"{len(context)} context chunks; send at most {self._limits.max_context_chunks}")
        context_budget, output_budget = self._budgets(max_context_tokens, max_output_tokens)
        prompt = self._prompts.build(question, context, context_budget)
        # The model quotes the prompt, where "<<<"/">>>" of the sources are look-alikes: the user
        # gets the sources' own text back.
        restorer = StreamRestorer(prompt.escaping)
        pieces: list[str] = []
        first = True
        model_usage: ModelUsage | None = None
        started = time.perf_counter()
        outcome = "failed"
        try:
            async for piece in self._model.generate(prompt.text, output_budget):
                if isinstance(piece, ModelUsage):
                    model_usage = piece
                    continue
                if first and self._observer is not None:
                    self._observer.first_piece(time.perf_counter() - started)
                first = False
                text = restorer.feed(piece)
                if text:
                    pieces.append(text)
                    yield AnswerDelta(text)
            tail = restorer.flush()
            if tail:
                pieces.append(tail)
                yield AnswerDelta(tail)
            outcome = "completed"
        except (asyncio.CancelledError, GeneratorExit):
            # The caller went away: leaving the model's stream cancels the request in Triton.
            outcome = "cancelled"
            _log.info(
                "generation cancelled by the caller",
                extra={"fields": {"pieces_sent": len(pieces), "model": self._model.name}},
            )
            raise
        finally:
            if self._observer is not None:
                self._observer.finished(outcome, time.perf_counter() - started)
        raw = "".join(pieces).strip()
        answer, grounding = await self._grounded(raw, prompt, output_budget)
        # The model's own token counts when it reports them (quotas charge what the model ran).
        usage = (
            TokenUsage(model_usage.prompt_tokens, model_usage.completion_tokens)
            if model_usage is not None
            else TokenUsage(prompt_tokens=prompt.prompt_tokens, completion_tokens=self._tokens.count(raw))
        )
        span = trace.get_current_span()
        # OpenTelemetry GenAI conventions; counts only, never the prompt or the answer text.
        span.set_attribute("gen_ai.operation.name", "text_completion")
        span.set_attribute("gen_ai.request.model", self._model.name)
        span.set_attribute("gen_ai.request.max_tokens", output_budget)
        span.set_attribute("gen_ai.usage.input_tokens", usage.prompt_tokens)
        span.set_attribute("gen_ai.usage.output_tokens", usage.completion_tokens)
        span.set_attribute("ragmesh.context_chunks", len(prompt.sources))
        if self._observer is not None:
            self._observer.tokens(usage.prompt_tokens, usage.completion_tokens)
        yield AnswerDone(
            answer=answer,
            citations=extract_citations(answer, prompt.sources),
            usage=usage,
            model=self._model.name,
            grounding=grounding,
        )

    async def _grounded(self, raw: str, prompt: Prompt, output_budget: int) -> tuple[str, Grounding]:
        policy = self._grounding
        if policy is None:
            return raw, Grounding(NOT_CHECKED, answer_model=self._model.name)
        verdict = policy.guard.check(raw, prompt.sources)
        if verdict.kept:
            outcome = SENTENCES_DROPPED if verdict.dropped else GROUNDED
            result = verdict.answer, Grounding(outcome, verdict.kept, verdict.dropped, self._model.name)
        else:
            restorer = StreamRestorer(prompt.escaping)  # the fallback quotes the prompt too
            pieces = [
                restorer.feed(p)
                async for p in policy.fallback.generate(prompt.text, output_budget)
                if isinstance(p, str)
            ]
            text = ("".join(pieces) + restorer.flush()).strip()
            result = text, Grounding(EXTRACTIVE_FALLBACK, 0, verdict.dropped, policy.fallback.name)
        if self._observer is not None:
            self._observer.grounding(result[1].outcome)
        span = trace.get_current_span()
        span.set_attribute("ragmesh.grounding.outcome", result[1].outcome)
        span.set_attribute("ragmesh.grounding.sentences_dropped", result[1].sentences_dropped)
        return result
