"""Use case: apply a batch of document events to the index.

Throughput comes from batching across documents: the chunks of all documents of a batch are embedded
together, ``embed_batch`` texts per embedder call with several calls in flight (Triton batches them
further), while each document's own writes (upsert, removal of older versions' chunks, its recorded
state) stay per document. Every step is idempotent, so a batch retried after a transient failure or
redelivered after a crash converges to the same index; documents whose recorded state already covers
an event are skipped, which also makes a retry resume where the failed attempt stopped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from functools import partial
from typing import Literal, TypeVar

from ragmesh_kit.domain import DELETE, DELETED, FAILED, INDEXED, Chunk, ChunkWithVector, DocumentCommand, DocumentStatus
from ragmesh_kit.errors import InvalidArgument
from services.indexer.app.batch_plan import bounded_groups, latest_per_document, rejection, still_applies
from services.indexer.app.document_chunks import ChunkText, DocumentChunker, DocumentChunks
from services.indexer.app.ports import ChunkWriter, Embedder
from services.indexer.app.structure import UnreadableDocument

T = TypeVar("T")
# The context (a tracing span) in which the work for the event at a position runs.
Scope = Callable[[int], AbstractContextManager[object]]


def chunk_id(document_id: str, chunk_index: int) -> str:
    """Stable per (document, chunk number): redelivery overwrites instead of duplicating. The
    store scopes it by tenant when it derives the point id."""
    return f"{document_id}#{chunk_index}"


@dataclass(frozen=True)
class Outcome:
    kind: Literal["indexed", "deleted", "ignored", "rejected"]
    chunks: int = 0
    reason: str = ""


@dataclass(frozen=True)
class BatchOptions:
    embed_batch: int = 32
    embed_concurrency: int = 4
    write_concurrency: int = 8
    max_chars: int = 4_000_000
    max_bytes: int = 2 * 1024 * 1024
    # Chunks (texts and vectors) held at once; a batch with more is embedded group by group.
    max_chunks_in_flight: int = 2048
    upsert_slice: int = 256


def _no_scope(position: int) -> AbstractContextManager[object]:
    return nullcontext()


class IndexBatch:
    def __init__(
        self, chunker: DocumentChunker, embedder: Embedder, writer: ChunkWriter, options: BatchOptions
    ) -> None:
        self._chunker = chunker
        self._embedder = embedder
        self._writer = writer
        self._options = options

    async def __call__(self, commands: Sequence[DocumentCommand], scope: Scope = _no_scope) -> list[Outcome]:
        """One outcome per command, in order. Raises the transient errors (dependency down,
        deadline) for the caller to retry the whole batch."""
        outcomes: dict[int, Outcome] = {}
        valid: list[int] = []
        for position, command in enumerate(commands):
            rejected = rejection(command, self._options.max_chars, self._options.max_bytes)
            if rejected is None and command.version < 1:
                rejected_reason = "version must be 1 or more (higher versions win)"
                outcomes[position] = Outcome("rejected", reason=rejected_reason)
            elif rejected is not None:
                outcomes[position] = Outcome("rejected", reason=rejected.reason)
            else:
                valid.append(position)

        plan = latest_per_document([commands[p] for p in valid])
        winners = [valid[w] for w in plan]
        for superseded in plan.values():
            for loser in superseded:
                outcomes[valid[loser]] = Outcome("ignored", reason="superseded by a later event of the batch")

        states = await self._bounded(
            [partial(self._state, commands[p], scope(p)) for p in winners], self._options.write_concurrency
        )
        deletes: list[int] = []
        upserts: list[int] = []
        for position, recorded in zip(winners, states, strict=True):
            command = commands[position]
            if not still_applies(command, recorded):
                assert recorded is not None
                why = f"{recorded.state} at version {recorded.version} is recorded"
                outcomes[position] = Outcome("ignored", reason=why)
            else:
                (deletes if command.operation == DELETE else upserts).append(position)

        await self._bounded(
            [partial(self._delete, commands[p], scope(p)) for p in deletes], self._options.write_concurrency
        )
        outcomes.update({p: Outcome("deleted") for p in deletes})
        outcomes.update(await self._index(commands, upserts, scope))
        failures = [p for p, o in outcomes.items() if o.kind == "rejected"]
        await self._bounded(
            [partial(self._record_failure, commands[p], outcomes[p].reason, scope(p)) for p in failures],
            self._options.write_concurrency,
        )
        return [outcomes[position] for position in range(len(commands))]

    @staticmethod
    async def _bounded(jobs: Sequence[Callable[[], Awaitable[T]]], limit: int) -> list[T]:
        gate = asyncio.Semaphore(max(1, limit))

        async def run(job: Callable[[], Awaitable[T]]) -> T:
            async with gate:
                return await job()

        return list(await asyncio.gather(*(run(job) for job in jobs)))

    async def _state(self, command: DocumentCommand, scope: AbstractContextManager[object]) -> DocumentStatus | None:
        with scope:
            return await self._writer.get_document_state(command.tenant_id, command.document_id)

    async def _delete(self, command: DocumentCommand, scope: AbstractContextManager[object]) -> None:
        with scope:
            # Chunks of this version and older; a newer version's chunks are never touched.
            await self._writer.delete_document(command.tenant_id, command.document_id, command.version + 1)
            status = DocumentStatus(command.document_id, DELETED, command.version)
            await self._writer.record_document_state(command.tenant_id, status)

    async def _record_failure(
        self, command: DocumentCommand, reason: str, scope: AbstractContextManager[object]
    ) -> None:
        if not command.tenant_id or not command.document_id:
            return
        with scope:
            status = DocumentStatus(command.document_id, FAILED, command.version, reason=reason)
            await self._writer.record_document_state(command.tenant_id, status)

    async def _index(
        self, commands: Sequence[DocumentCommand], positions: Sequence[int], scope: Scope
    ) -> dict[int, Outcome]:
        # Off the event loop: parsing and tokenizing a large document take long enough to stall heartbeats.
        split = await asyncio.gather(*(asyncio.to_thread(self._split, commands[p]) for p in positions))
        outcomes: dict[int, Outcome] = {}
        documents: dict[int, DocumentChunks] = {}
        for position, result in zip(positions, split, strict=True):
            if isinstance(result, UnreadableDocument):
                outcomes[position] = Outcome("rejected", reason=str(result))
            else:
                documents[position] = result
        positions = [p for p in positions if p in documents]
        texts = documents
        sizes = [len(texts[p].chunks) for p in positions]
        for group in bounded_groups(sizes, self._options.max_chunks_in_flight):
            members = [positions[i] for i in group]
            try:
                outcomes.update(await self._index_group(commands, members, texts, scope))
            except InvalidArgument:
                # A dependency refused something of this group: find the document, index the rest.
                for member in members:
                    try:
                        outcomes.update(await self._index_group(commands, [member], texts, scope))
                    except InvalidArgument as error:
                        outcomes[member] = Outcome("rejected", reason=error.message)
        return outcomes

    def _split(self, command: DocumentCommand) -> DocumentChunks | UnreadableDocument:
        """The document's chunks, or why it cannot be read (which rejects it, not the batch)."""
        try:
            return self._chunker(command)
        except UnreadableDocument as error:
            return error

    async def _index_group(
        self,
        commands: Sequence[DocumentCommand],
        members: Sequence[int],
        texts: dict[int, DocumentChunks],
        scope: Scope,
    ) -> dict[int, Outcome]:
        flat = [(p, n) for p in members for n in range(len(texts[p].chunks))]
        size = self._options.embed_batch
        slices = [flat[start : start + size] for start in range(0, len(flat), size)]

        async def embed(piece: list[tuple[int, int]]) -> list[list[float]]:
            # The call runs in the first document's span: one parent per call (its other documents'
            # spans are siblings; the vectors are the same whichever document a call is traced under).
            with scope(piece[0][0]):
                return await self._embedder.embed([texts[p].chunks[n].text for p, n in piece])

        vectors_per_slice = await self._bounded([partial(embed, s) for s in slices], self._options.embed_concurrency)
        vectors: dict[int, list[list[float]]] = {p: [] for p in members}
        for piece, got in zip(slices, vectors_per_slice, strict=True):
            if len(got) != len(piece):
                raise InvalidArgument(f"embedder returned {len(got)} vectors for {len(piece)} texts")
            for (p, _), vector in zip(piece, got, strict=True):
                vectors[p].append(vector)
        await self._bounded(
            [partial(self._write, commands[p], texts[p], vectors[p], scope(p)) for p in members],
            self._options.write_concurrency,
        )
        return {p: Outcome("indexed", chunks=len(texts[p].chunks)) for p in members}

    async def _write(
        self,
        command: DocumentCommand,
        document: DocumentChunks,
        vectors: list[list[float]],
        scope: AbstractContextManager[object],
    ) -> None:
        texts: list[ChunkText] = document.chunks
        with scope:
            if not texts:
                raise InvalidArgument("document has no text to index")
            records = [
                ChunkWithVector(
                    Chunk(
                        chunk_id=chunk_id(command.document_id, index),
                        document_id=command.document_id,
                        chunk_index=index,
                        version=command.version,
                        title=command.title or document.title,
                        text=piece.text,
                        metadata=command.metadata,
                        heading=piece.heading,
                        page=piece.page,
                    ),
                    vector,
                )
                for index, (piece, vector) in enumerate(zip(texts, vectors, strict=True))
            ]
            step = self._options.upsert_slice
            for start in range(0, len(records), step):
                await self._writer.upsert(command.tenant_id, records[start : start + step])
            # Chunks of older versions (e.g. a longer previous text) are removed only after the new
            # ones are stored, so the document never disappears from search in between.
            await self._writer.delete_document(command.tenant_id, command.document_id, command.version)
            status = DocumentStatus(command.document_id, INDEXED, command.version, chunk_count=len(records))
            await self._writer.record_document_state(command.tenant_id, status)
