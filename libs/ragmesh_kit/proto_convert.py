"""Conversions between the shared protobuf messages (ragmesh.common.v1) and the domain types."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from ragmesh.common.v1 import types_pb2
from ragmesh_kit.domain import (
    ACCEPTED,
    DELETED,
    DENSE,
    EXTRACTIVE_FALLBACK,
    FAILED,
    GROUNDED,
    HYBRID,
    INDEXED,
    NOT_CHECKED,
    SENTENCES_DROPPED,
    Chunk,
    Citation,
    DocumentStatus,
    Grounding,
    MetadataFilter,
    MetadataScalar,
    Range,
    RetrievalMode,
    ScoredChunk,
    TokenUsage,
)
from ragmesh_kit.errors import InvalidArgument


def metadata_value_from_proto(value: types_pb2.MetadataValue, field: str) -> MetadataScalar:
    kind = value.WhichOneof("kind")
    if kind is None:
        raise InvalidArgument(f"metadata field {field!r} has no value; set one of string/int/double/bool")
    scalar: MetadataScalar = getattr(value, kind)
    # Qdrant stores JSON numbers only: an infinite or NaN value would fail the write every time it
    # is retried, holding back the documents behind it on its partition.
    if isinstance(scalar, float) and not math.isfinite(scalar):
        raise InvalidArgument(f"metadata field {field!r} is {scalar}; send a finite number")
    return scalar


def metadata_value_to_proto(value: MetadataScalar) -> types_pb2.MetadataValue:
    # bool first: bool is a subclass of int.
    if isinstance(value, bool):
        return types_pb2.MetadataValue(bool_value=value)
    if isinstance(value, int):
        return types_pb2.MetadataValue(int_value=value)
    if isinstance(value, float):
        return types_pb2.MetadataValue(double_value=value)
    return types_pb2.MetadataValue(string_value=str(value))


def metadata_from_proto(values: Mapping[str, types_pb2.MetadataValue]) -> dict[str, MetadataScalar]:
    return {key: metadata_value_from_proto(value, key) for key, value in values.items()}


def metadata_to_proto(values: Mapping[str, MetadataScalar]) -> dict[str, types_pb2.MetadataValue]:
    return {key: metadata_value_to_proto(value) for key, value in values.items()}


def filters_from_proto(filters: Iterable[types_pb2.MetadataFilter]) -> list[MetadataFilter]:
    result: list[MetadataFilter] = []
    for item in filters:
        if not item.field:
            raise InvalidArgument("filter without a field name; set MetadataFilter.field")
        condition = item.WhichOneof("condition")
        if condition == "equals":
            result.append(MetadataFilter(item.field, equals=metadata_value_from_proto(item.equals, item.field)))
        elif condition == "any_of":
            if not item.any_of.values:
                raise InvalidArgument(f"filter on {item.field!r}: any_of needs at least one value")
            result.append(MetadataFilter(item.field, any_of=tuple(item.any_of.values)))
        elif condition == "range":
            bounds = item.range
            found = {
                name: getattr(bounds, name) if bounds.HasField(name) else None for name in ("gt", "gte", "lt", "lte")
            }
            if all(value is None for value in found.values()):
                raise InvalidArgument(f"filter on {item.field!r}: range needs at least one bound")
            result.append(MetadataFilter(item.field, range=Range(**found)))
        else:
            raise InvalidArgument(f"filter on {item.field!r} has no condition; set equals, any_of or range")
    return result


def filters_to_proto(filters: Iterable[MetadataFilter]) -> list[types_pb2.MetadataFilter]:
    result: list[types_pb2.MetadataFilter] = []
    for item in filters:
        message = types_pb2.MetadataFilter(field=item.field)
        if item.equals is not None:
            message.equals.CopyFrom(metadata_value_to_proto(item.equals))
        elif item.any_of is not None:
            message.any_of.values.extend(item.any_of)
        elif item.range is not None:
            for name in ("gt", "gte", "lt", "lte"):
                bound = getattr(item.range, name)
                if bound is not None:
                    setattr(message.range, name, bound)
        result.append(message)
    return result


def chunk_from_proto(message: types_pb2.Chunk) -> Chunk:
    return Chunk(
        chunk_id=message.chunk_id,
        document_id=message.document_id,
        chunk_index=message.chunk_index,
        version=message.version,
        title=message.title,
        text=message.text,
        metadata=metadata_from_proto(message.metadata),
        heading=message.heading,
        page=message.page,
        text_tokens=message.text_tokens,
    )


def chunk_to_proto(chunk: Chunk) -> types_pb2.Chunk:
    return types_pb2.Chunk(
        chunk_id=chunk.chunk_id,
        document_id=chunk.document_id,
        chunk_index=chunk.chunk_index,
        version=chunk.version,
        title=chunk.title,
        text=chunk.text,
        metadata=metadata_to_proto(chunk.metadata),
        heading=chunk.heading,
        page=chunk.page,
        text_tokens=chunk.text_tokens,
    )


def scored_chunk_from_proto(message: types_pb2.ScoredChunk) -> ScoredChunk:
    return ScoredChunk(chunk=chunk_from_proto(message.chunk), score=message.score)


def scored_chunk_to_proto(scored: ScoredChunk) -> types_pb2.ScoredChunk:
    return types_pb2.ScoredChunk(chunk=chunk_to_proto(scored.chunk), score=scored.score)


def citation_to_proto(citation: Citation) -> types_pb2.Citation:
    return types_pb2.Citation(
        document_id=citation.document_id,
        chunk_id=citation.chunk_id,
        score=citation.score,
        title=citation.title,
        quote=citation.quote,
        label=citation.label,
        heading=citation.heading,
        page=citation.page,
    )


def citation_from_proto(message: types_pb2.Citation) -> Citation:
    return Citation(
        document_id=message.document_id,
        chunk_id=message.chunk_id,
        score=message.score,
        title=message.title,
        quote=message.quote,
        label=message.label,
        heading=message.heading,
        page=message.page,
    )


def usage_to_proto(usage: TokenUsage) -> types_pb2.TokenUsage:
    return types_pb2.TokenUsage(
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        total_tokens=usage.total_tokens,
    )


def usage_from_proto(message: types_pb2.TokenUsage) -> TokenUsage:
    return TokenUsage(prompt_tokens=message.prompt_tokens, completion_tokens=message.completion_tokens)


_GROUNDING_TO_PROTO = {
    NOT_CHECKED: types_pb2.GROUNDING_OUTCOME_NOT_CHECKED,
    GROUNDED: types_pb2.GROUNDING_OUTCOME_GROUNDED,
    SENTENCES_DROPPED: types_pb2.GROUNDING_OUTCOME_SENTENCES_DROPPED,
    EXTRACTIVE_FALLBACK: types_pb2.GROUNDING_OUTCOME_EXTRACTIVE_FALLBACK,
}
_GROUNDING_FROM_PROTO = {value: key for key, value in _GROUNDING_TO_PROTO.items()}


def grounding_to_proto(grounding: Grounding | None) -> types_pb2.Grounding | None:
    if grounding is None:
        return None
    return types_pb2.Grounding(
        outcome=_GROUNDING_TO_PROTO[grounding.outcome],
        sentences_kept=grounding.sentences_kept,
        sentences_dropped=grounding.sentences_dropped,
        answer_model=grounding.answer_model,
    )


def grounding_from_proto(message: types_pb2.Grounding) -> Grounding | None:
    outcome = _GROUNDING_FROM_PROTO.get(message.outcome)
    if outcome is None:  # unspecified: a generator that does not report it
        return None
    return Grounding(outcome, message.sentences_kept, message.sentences_dropped, message.answer_model)


_STATE_TO_PROTO = {
    ACCEPTED: types_pb2.DOCUMENT_STATE_ACCEPTED,
    INDEXED: types_pb2.DOCUMENT_STATE_INDEXED,
    FAILED: types_pb2.DOCUMENT_STATE_FAILED,
    DELETED: types_pb2.DOCUMENT_STATE_DELETED,
}
_STATE_FROM_PROTO = {value: key for key, value in _STATE_TO_PROTO.items()}


def document_status_to_proto(status: DocumentStatus) -> types_pb2.DocumentStatus:
    return types_pb2.DocumentStatus(
        document_id=status.document_id,
        state=_STATE_TO_PROTO[status.state],
        version=status.version,
        chunk_count=status.chunk_count,
        reason=status.reason,
    )


def document_status_from_proto(message: types_pb2.DocumentStatus) -> DocumentStatus:
    state = _STATE_FROM_PROTO.get(message.state)
    if state is None:
        raise InvalidArgument(f"document state {message.state} is not one of ACCEPTED, INDEXED, FAILED, DELETED")
    return DocumentStatus(
        document_id=message.document_id,
        state=state,
        version=message.version,
        chunk_count=message.chunk_count,
        reason=message.reason,
    )


_MODES: dict[types_pb2.RetrievalMode, RetrievalMode | None] = {
    types_pb2.RETRIEVAL_MODE_UNSPECIFIED: None,
    types_pb2.RETRIEVAL_MODE_DENSE: DENSE,
    types_pb2.RETRIEVAL_MODE_HYBRID: HYBRID,
}


def retrieval_mode_from_proto(value: types_pb2.RetrievalMode) -> RetrievalMode | None:
    """None for UNSPECIFIED (the server's default); an unknown number is the caller's mistake."""
    if value not in _MODES:
        raise InvalidArgument(f"mode {value} is unknown; use RETRIEVAL_MODE_DENSE or RETRIEVAL_MODE_HYBRID")
    return _MODES[value]


def retrieval_mode_to_proto(mode: RetrievalMode | None) -> types_pb2.RetrievalMode:
    for number, name in _MODES.items():
        if name == mode:
            return number
    raise ValueError(f"unknown retrieval mode {mode!r}")
