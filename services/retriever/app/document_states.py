"""Use cases on the recorded state of documents (ACCEPTED, INDEXED, FAILED, DELETED per version)."""

from __future__ import annotations

from ragmesh_kit.domain import ACCEPTED, DELETED, FAILED, INDEXED, DocumentStatus
from ragmesh_kit.errors import InvalidArgument
from services.retriever.app.ports import DocumentStateStore

_STATES = (ACCEPTED, INDEXED, FAILED, DELETED)


def kept_state(current: DocumentStatus | None, incoming: DocumentStatus) -> DocumentStatus:
    """Which state a record keeps: the newer version; for the same version the later report, except
    that ACCEPTED never replaces an outcome (the gateway's ACCEPTED may reach us after the indexer's
    INDEXED of the same version, and must not make a finished document look pending)."""
    if current is None or incoming.version > current.version:
        return incoming
    if incoming.version < current.version:
        return current
    if incoming.state == ACCEPTED and current.state != ACCEPTED:
        return current
    return incoming


class DocumentStates:
    def __init__(self, store: DocumentStateStore) -> None:
        self._store = store

    async def get(self, tenant_id: str, document_id: str) -> DocumentStatus | None:
        _require(tenant_id, document_id)
        return await self._store.get_document_state(tenant_id, document_id)

    async def record(self, tenant_id: str, status: DocumentStatus) -> DocumentStatus:
        _require(tenant_id, status.document_id)
        if status.state not in _STATES:
            raise InvalidArgument(f"state {status.state!r} is not one of {', '.join(_STATES)}")
        if status.version < 0:
            raise InvalidArgument("version is negative")
        # The store applies ``kept_state`` atomically (read and write without another write between).
        return await self._store.record_document_state(tenant_id, status, kept_state)


def _require(tenant_id: str, document_id: str) -> None:
    if not tenant_id:
        raise InvalidArgument("tenant_id is empty; every retriever call names its tenant")
    if not document_id:
        raise InvalidArgument("document_id is empty")
