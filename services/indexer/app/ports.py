from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ragmesh_kit.domain import ChunkWithVector, DocumentStatus
from services.indexer.app.structure import StructuredDocument


class Embedder(Protocol):
    async def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


class ChunkWriter(Protocol):
    """The retriever as the indexer uses it: chunk writes and the documents' recorded states."""

    async def upsert(self, tenant_id: str, records: Sequence[ChunkWithVector]) -> int: ...

    async def delete_document(self, tenant_id: str, document_id: str, below_version: int) -> None: ...

    async def get_document_state(self, tenant_id: str, document_id: str) -> DocumentStatus | None: ...

    async def record_document_state(self, tenant_id: str, status: DocumentStatus) -> DocumentStatus: ...


class DocumentParser(Protocol):
    """One per content type (markdown, HTML, PDF): the document's bytes as its structure. Raises
    ``UnreadableDocument`` (services.indexer.app.structure) for anything it cannot read, never
    another error."""

    def parse(self, content: bytes) -> StructuredDocument: ...
