"""Use case: apply one document event to the index — chunk, embed in batches, upsert, then drop
chunks of older versions; or delete the document."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from opentelemetry import trace

from ragmesh_kit.domain import DELETE, Chunk, ChunkWithVector, DocumentCommand
from ragmesh_kit.errors import InvalidArgument
from services.indexer.app.chunker import Chunker
from services.indexer.app.ports import ChunkWriter, Embedder

_UPSERT_SLICE = 256


def chunk_id(document_id: str, chunk_index: int) -> str:
    """Stable per (document, chunk number): redelivery overwrites instead of duplicating. The
    store scopes it by tenant when it derives the point id."""
    return f"{document_id}#{chunk_index}"


@dataclass(frozen=True)
class IndexOutcome:
    operation: str
    chunks: int


class IndexDocument:
    def __init__(
        self, chunker: Chunker, embedder: Embedder, writer: ChunkWriter, embed_batch: int, max_chars: int
    ) -> None:
        self._chunker = chunker
        self._embedder = embedder
        self._writer = writer
        self._embed_batch = embed_batch
        self._max_chars = max_chars

    async def __call__(self, command: DocumentCommand) -> IndexOutcome:
        span = trace.get_current_span()
        span.set_attribute("ragmesh.tenant_id", command.tenant_id)
        span.set_attribute("ragmesh.document_id", command.document_id)
        if command.operation == DELETE:
            await self._writer.delete_document(command.tenant_id, command.document_id, 0)
            return IndexOutcome(DELETE, 0)
        if not command.text.strip():
            raise InvalidArgument("document text is empty")
        if len(command.text) > self._max_chars:
            raise InvalidArgument(f"document has {len(command.text)} characters; the limit is {self._max_chars}")
        texts = self._chunker.split(command.text)
        batches = [texts[start : start + self._embed_batch] for start in range(0, len(texts), self._embed_batch)]
        vectors = [
            vector for batch in await asyncio.gather(*(self._embedder.embed(b) for b in batches)) for vector in batch
        ]
        records = [
            ChunkWithVector(
                chunk=Chunk(
                    chunk_id=chunk_id(command.document_id, index),
                    document_id=command.document_id,
                    chunk_index=index,
                    version=command.version,
                    title=command.title,
                    text=text,
                    metadata=command.metadata,
                ),
                vector=vector,
            )
            for index, (text, vector) in enumerate(zip(texts, vectors, strict=True))
        ]
        for start in range(0, len(records), _UPSERT_SLICE):
            await self._writer.upsert(command.tenant_id, records[start : start + _UPSERT_SLICE])
        # Chunks of older versions (e.g. a longer previous text) are removed only after the new
        # ones are stored, so the document never disappears from search in between.
        await self._writer.delete_document(command.tenant_id, command.document_id, command.version)
        span.set_attribute("ragmesh.chunk_count", len(records))
        return IndexOutcome(command.operation, len(records))
