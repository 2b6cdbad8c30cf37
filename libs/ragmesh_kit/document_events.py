"""The Kafka contract for documents: topic, key and the protobuf payload ``DocumentEvent``."""

from __future__ import annotations

from ragmesh.documents.v1 import events_pb2
from ragmesh_kit.domain import DELETE, UPSERT, DocumentCommand
from ragmesh_kit.errors import InvalidArgument
from ragmesh_kit.proto_convert import metadata_from_proto, metadata_to_proto

DOCUMENTS_TOPIC = "ragmesh.documents.v1"
DEAD_LETTER_TOPIC = "ragmesh.documents.dlq.v1"
# Partitions the local stack creates for each topic.
TOPIC_PARTITIONS = {DOCUMENTS_TOPIC: 3, DEAD_LETTER_TOPIC: 1}
# Documents travel in the event itself (no reference to fetch): a document of up to 2 MiB (the
# gateway's and the indexer's document limit) plus its title, metadata and ids fits in 3 MiB. The
# topic's max.message.bytes, the broker's message.max.bytes (deploy/local/kafka/server.properties)
# and the producers' max.request.size are set to this.
MAX_EVENT_BYTES = 3 * 1024 * 1024
TOPIC_CONFIGS = {DOCUMENTS_TOPIC: {"max.message.bytes": str(MAX_EVENT_BYTES)}}

# Message headers (besides the W3C ``traceparent``): the one place their names are written.
EVENT_ID_HEADER = "ragmesh-event-id"
# On dead letters: why, where from ("<topic>/<partition>/<offset>"), at which stage ("decode": not
# a DocumentEvent; "index": a valid event that cannot be indexed), when (ms since the epoch), and
# the value's size when it was too large to carry and was left out.
DLQ_HEADER_PREFIX = "ragmesh-dlq-"
DLQ_REASON_HEADER = DLQ_HEADER_PREFIX + "reason"
DLQ_SOURCE_HEADER = DLQ_HEADER_PREFIX + "source"
DLQ_STAGE_HEADER = DLQ_HEADER_PREFIX + "stage"
DLQ_AT_HEADER = DLQ_HEADER_PREFIX + "at-ms"
DLQ_VALUE_OMITTED_HEADER = DLQ_HEADER_PREFIX + "value-omitted"
# On replayed dead letters: how often replayed, and the dead letter's own position.
REPLAY_COUNT_HEADER = "ragmesh-replay-count"
REPLAY_SOURCE_HEADER = "ragmesh-replay-source"

_TO_PROTO = {UPSERT: events_pb2.DocumentEvent.OPERATION_UPSERT, DELETE: events_pb2.DocumentEvent.OPERATION_DELETE}
_FROM_PROTO = {value: key for key, value in _TO_PROTO.items()}


def message_key(tenant_id: str, document_id: str) -> bytes:
    """One key per document, so all events of a document land on one partition, in order."""
    return f"{tenant_id}/{document_id}".encode()


def encode_event(command: DocumentCommand) -> bytes:
    event = events_pb2.DocumentEvent(
        operation=_TO_PROTO[command.operation],
        tenant_id=command.tenant_id,
        document_id=command.document_id,
        version=command.version,
        title=command.title,
        text=command.text,
        metadata=metadata_to_proto(command.metadata),
        event_id=command.event_id,
        content=command.content,
        content_type=command.content_type,
    )
    return event.SerializeToString()


def decode_event(payload: bytes) -> DocumentCommand:
    """Parses a payload; anything malformed raises InvalidArgument (a poison message)."""
    event = events_pb2.DocumentEvent()
    try:
        event.ParseFromString(payload)
    except Exception as error:
        raise InvalidArgument(f"payload is not a DocumentEvent: {error}") from error
    operation = _FROM_PROTO.get(event.operation)
    if operation is None:
        raise InvalidArgument(f"DocumentEvent.operation is {event.operation}; use UPSERT or DELETE")
    if not event.tenant_id or not event.document_id:
        raise InvalidArgument("DocumentEvent needs tenant_id and document_id")
    return DocumentCommand(
        operation=operation,
        tenant_id=event.tenant_id,
        document_id=event.document_id,
        version=event.version,
        title=event.title,
        text=event.text,
        metadata=metadata_from_proto(event.metadata),
        event_id=event.event_id,
        content=event.content,
        content_type=event.content_type,
    )
