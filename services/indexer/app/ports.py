from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ragmesh_kit.domain import ChunkWithVector


class Embedder(Protocol):
    async def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


class ChunkWriter(Protocol):
    async def upsert(self, tenant_id: str, records: Sequence[ChunkWithVector]) -> int: ...

    async def delete_document(self, tenant_id: str, document_id: str, below_version: int) -> None: ...
