"""Use cases: accept a document for indexing, or ask for its removal, by publishing an event;
tell where a document stands."""

from __future__ import annotations

import logging
import re
import time
import uuid

from ragmesh_kit import content_types
from ragmesh_kit.domain import ACCEPTED, DELETE, UPSERT, DocumentCommand, DocumentStatus, MetadataScalar
from ragmesh_kit.errors import InvalidArgument, NotFound, RagmeshError
from services.gateway.app.generations import IndexGenerations
from services.gateway.app.ports import DocumentPublisher, DocumentStateRecorder

_log = logging.getLogger(__name__)

_DOCUMENT_ID = re.compile(r"[A-Za-z0-9._:/-]{1,256}")


def _check_document_id(document_id: str) -> None:
    if not _DOCUMENT_ID.fullmatch(document_id):
        raise InvalidArgument("document_id must be 1-256 characters of letters, digits and . _ : / -")


def _version_or_now(version: int) -> int:
    if version < 0:
        raise InvalidArgument("version must not be negative; use 0 for 'now'")
    return version or time.time_ns() // 1_000_000


class DocumentIntake:
    def __init__(
        self,
        publisher: DocumentPublisher,
        states: DocumentStateRecorder,
        generations: IndexGenerations,
        max_document_bytes: int,
    ) -> None:
        self._publisher = publisher
        self._states = states
        self._generations = generations
        self._max_document_bytes = max_document_bytes

    async def submit(
        self,
        tenant_id: str,
        document_id: str,
        text: str,
        title: str,
        metadata: dict[str, MetadataScalar],
        version: int,
        content: bytes = b"",
        content_type: str = "",
    ) -> DocumentCommand:
        _check_document_id(document_id)
        self._check_body(text, content, content_type)
        command = DocumentCommand(
            operation=UPSERT,
            tenant_id=tenant_id,
            document_id=document_id,
            version=_version_or_now(version),
            title=title,
            text=text,
            metadata=metadata,
            event_id=str(uuid.uuid4()),
            content=content,
            content_type=content_type,
        )
        await self._publisher.publish(command)
        await self._generations.changed(tenant_id, document_id, command.version)
        await self._record_accepted(command)
        return command

    def _check_body(self, text: str, content: bytes, content_type: str) -> None:
        """Exactly one of text and content, within the size limit, of a known type, and (where the
        bytes tell) really of that type; the rest (an encrypted PDF, HTML without text) only
        parsing finds, in the indexer, which records the document as failed with the reason."""
        if text and content:
            raise InvalidArgument("send exactly one of text and content, not both")
        media = content_types.normalize(content_type)
        if content:
            body, size = "content", len(content)
        elif text.strip():
            body, size = "text", len(text.encode())
        else:
            raise InvalidArgument("text is empty; send the document's text (or its bytes in content with content_type)")
        if size > self._max_document_bytes:
            raise InvalidArgument(
                f"{body} is {size} bytes; the limit is {self._max_document_bytes} (GATEWAY_MAX_DOCUMENT_BYTES)"
            )
        if content:
            content_types.check_content(content, media)
        elif media == content_types.PDF:
            raise InvalidArgument("a PDF is bytes: send it in content, not text")

    async def _record_accepted(self, command: DocumentCommand) -> None:
        """Recorded after publishing (a document is accepted once Kafka has it), unless the
        retriever already holds a newer state. Kafka has the document either way, so a failure
        here must not fail the submission: the client would resubmit what is already accepted."""
        status = DocumentStatus(document_id=command.document_id, state=ACCEPTED, version=command.version)
        try:
            await self._states.record_document_state(command.tenant_id, status)
        except RagmeshError as error:
            _log.warning(
                "document accepted but its state was not recorded",
                extra={"fields": {"document_id": command.document_id, "reason": error.message}},
            )

    async def status(self, tenant_id: str, document_id: str) -> DocumentStatus:
        _check_document_id(document_id)
        status = await self._states.get_document_state(tenant_id, document_id)
        if status is None:
            raise NotFound(f"document {document_id} is not known for this tenant")
        return status

    async def delete(self, tenant_id: str, document_id: str) -> DocumentCommand:
        _check_document_id(document_id)
        command = DocumentCommand(
            operation=DELETE,
            tenant_id=tenant_id,
            document_id=document_id,
            version=_version_or_now(0),
            event_id=str(uuid.uuid4()),
        )
        await self._publisher.publish(command)
        await self._generations.changed(tenant_id, document_id, command.version)
        return command
