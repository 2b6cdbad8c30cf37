"""Typed results of the SDK (plain dataclasses, no protobuf in user code)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import cast

import grpc

from ragmesh.common.v1 import types_pb2
from ragmesh.gateway.v1 import gateway_pb2


class RagmeshError(Exception):
    """A call failed; ``code`` is the gRPC status, ``details`` says what to fix."""

    def __init__(self, code: grpc.StatusCode, details: str, retry_after_seconds: float | None = None) -> None:
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details
        self.retry_after_seconds = retry_after_seconds


@dataclass(frozen=True)
class Citation:
    label: int
    document_id: str
    chunk_id: str
    title: str
    quote: str
    score: float
    heading: str = ""  # the cited section's heading path ("Install › Linux"); "" for plain text
    page: int = 0  # the cited PDF page (from 1); 0 when the document has no pages


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@dataclass(frozen=True)
class Answer:
    text: str
    citations: list[Citation]
    usage: Usage
    trace_id: str
    cache: str = "unspecified"


@dataclass(frozen=True)
class AnswerPiece:
    text: str


@dataclass(frozen=True)
class Submitted:
    document_id: str
    version: int
    trace_id: str


@dataclass(frozen=True)
class DocumentStatus:
    document_id: str
    state: str  # "accepted", "indexed", "failed", "deleted" or "unspecified" (unknown)
    version: int
    chunk_count: int
    reason: str = ""
    trace_id: str = field(default="", compare=False)


@dataclass(frozen=True)
class SearchHit:
    """One chunk found by Search; ``score`` is its cosine similarity to the query."""

    document_id: str
    chunk_id: str
    chunk_index: int
    version: int
    title: str
    text: str
    metadata: dict[str, str | int | float | bool]
    score: float
    heading: str = ""
    page: int = 0


@dataclass(frozen=True)
class SearchResults:
    """Best first (for hybrid search the fused order, so scores need not decrease)."""

    hits: list[SearchHit]
    trace_id: str


def _metadata_value(value: types_pb2.MetadataValue) -> str | int | float | bool:
    kind = value.WhichOneof("kind")
    return getattr(value, kind) if kind else ""


def search_results_from(reply: gateway_pb2.SearchResponse) -> SearchResults:
    hits = [
        SearchHit(
            document_id=item.chunk.document_id,
            chunk_id=item.chunk.chunk_id,
            chunk_index=item.chunk.chunk_index,
            version=item.chunk.version,
            title=item.chunk.title,
            text=item.chunk.text,
            metadata={key: _metadata_value(value) for key, value in item.chunk.metadata.items()},
            score=round(item.score, 6),
            heading=item.chunk.heading,
            page=item.chunk.page,
        )
        for item in reply.results
    ]
    return SearchResults(hits, reply.trace_id)


def _cache_name(value: int) -> str:
    return types_pb2.CacheStatus.Name(value).removeprefix("CACHE_STATUS_").lower()


def answer_from(
    text: str, citations: list[types_pb2.Citation], usage: types_pb2.TokenUsage, trace_id: str, cache: int
) -> Answer:
    return Answer(
        text=text,
        citations=[
            Citation(c.label, c.document_id, c.chunk_id, c.title, c.quote, round(c.score, 6), c.heading, c.page)
            for c in citations
        ],
        usage=Usage(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens),
        trace_id=trace_id,
        cache=_cache_name(cache),
    )


def status_from(reply: gateway_pb2.GetDocumentStatusResponse) -> DocumentStatus:
    status = reply.status
    state = types_pb2.DocumentState.Name(status.state).removeprefix("DOCUMENT_STATE_").lower()
    return DocumentStatus(status.document_id, state, status.version, status.chunk_count, status.reason, reply.trace_id)


def error_from(error: grpc.RpcError) -> RagmeshError:
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    details = error.details() if hasattr(error, "details") else str(error)
    retry_after: float | None = None
    trailing = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
    # Sync calls give _Metadatum named tuples, aio calls aio.Metadata: both iterate as (key, value).
    for key, value in cast("Iterable[tuple[str, str | bytes]]", trailing or ()):
        if key == "retry-after-seconds":
            try:
                retry_after = float(value)
            except ValueError:
                retry_after = None
    return RagmeshError(code, details or "", retry_after)
