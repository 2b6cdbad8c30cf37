from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from ragmesh_kit.domain import (
    DocumentCommand,
    GeneratedAnswer,
    GeneratedPiece,
    MetadataFilter,
    ScoredChunk,
)


class Embedder(Protocol):
    async def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


class Retriever(Protocol):
    async def search(
        self, tenant_id: str, vector: Sequence[float], top_k: int, filters: Sequence[MetadataFilter]
    ) -> list[ScoredChunk]: ...


class Generator(Protocol):
    def generate(
        self, question: str, context: Sequence[ScoredChunk], max_context_tokens: int
    ) -> AsyncIterator[GeneratedPiece | GeneratedAnswer]: ...


class DocumentPublisher(Protocol):
    async def publish(self, command: DocumentCommand) -> None: ...
