"""Use case: answer a tenant's question — embed it, search the tenant's chunks, generate."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from ragmesh_kit.domain import GeneratedAnswer, GeneratedPiece, MetadataFilter
from ragmesh_kit.errors import DependencyFailed, InvalidArgument
from services.gateway.app.ports import Embedder, Generator, Retriever


@dataclass(frozen=True)
class AskLimits:
    default_top_k: int
    max_top_k: int
    max_question_chars: int


@dataclass(frozen=True)
class Question:
    tenant_id: str
    text: str
    top_k: int = 0
    filters: Sequence[MetadataFilter] = ()
    max_context_tokens: int = 0


class AskQuestion:
    def __init__(self, embedder: Embedder, retriever: Retriever, generator: Generator, limits: AskLimits) -> None:
        self._embedder = embedder
        self._retriever = retriever
        self._generator = generator
        self._limits = limits

    def _validate(self, question: Question) -> int:
        if not question.text.strip():
            raise InvalidArgument("question is empty; send the question text")
        if len(question.text) > self._limits.max_question_chars:
            raise InvalidArgument(
                f"question has {len(question.text)} characters; the limit is {self._limits.max_question_chars}"
            )
        top_k = question.top_k or self._limits.default_top_k
        if top_k > self._limits.max_top_k:
            raise InvalidArgument(f"top_k is {top_k}; the limit is {self._limits.max_top_k}")
        return top_k

    async def stream(self, question: Question) -> AsyncIterator[GeneratedPiece | GeneratedAnswer]:
        top_k = self._validate(question)
        [vector] = await self._embedder.embed([question.text])
        chunks = await self._retriever.search(question.tenant_id, vector, top_k, question.filters)
        async for event in self._generator.generate(question.text, chunks, question.max_context_tokens):
            yield event

    async def answer(self, question: Question) -> GeneratedAnswer:
        final: GeneratedAnswer | None = None
        # Read the stream to its end (not just to the final message) so every span and call
        # downstream completes normally.
        async for event in self.stream(question):
            if isinstance(event, GeneratedAnswer):
                final = event
        if final is None:
            raise DependencyFailed("generator: the stream ended without a final answer")
        return final
