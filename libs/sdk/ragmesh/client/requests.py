"""Request building shared by the sync and async clients."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ragmesh.common.v1 import types_pb2
from ragmesh.gateway.v1 import gateway_pb2

MetadataInput = Mapping[str, str | int | float | bool]
RETRYABLE = ("UNAVAILABLE",)


def metadata_value(value: str | int | float | bool) -> types_pb2.MetadataValue:
    # Mirrors ragmesh_kit.proto_convert on purpose: the SDK depends only on the generated contracts,
    # not on the services' kit (OpenTelemetry, pydantic-settings, ...), so callers stay light.
    if isinstance(value, bool):
        return types_pb2.MetadataValue(bool_value=value)
    if isinstance(value, int):
        return types_pb2.MetadataValue(int_value=value)
    if isinstance(value, float):
        return types_pb2.MetadataValue(double_value=value)
    return types_pb2.MetadataValue(string_value=str(value))


# Files the gateway takes, by extension (lower case), with the content type they are sent as.
CONTENT_TYPES = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".html": "text/html",
    ".htm": "text/html",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".text": "text/plain",
    ".rst": "text/plain",
}


def content_type_for(path: Path) -> str | None:
    """The content type a file is sent as, from its extension; None when the gateway takes no such file."""
    return CONTENT_TYPES.get(path.suffix.lower())


def submit_request(
    document_id: str,
    text: str,
    title: str,
    metadata: MetadataInput | None,
    version: int,
    content: bytes = b"",
    content_type: str = "",
) -> gateway_pb2.SubmitDocumentRequest:
    return gateway_pb2.SubmitDocumentRequest(
        document_id=document_id,
        text=text,
        title=title,
        metadata={key: metadata_value(value) for key, value in (metadata or {}).items()},
        version=version,
        content=content,
        content_type=content_type,
    )


def file_request(
    path: Path, document_id: str | None, title: str | None, metadata: MetadataInput | None, version: int
) -> gateway_pb2.SubmitDocumentRequest:
    """A file as it is on disk (markdown, HTML, PDF or text), typed by its extension. The document id
    defaults to the file's name, the title to its name without the extension."""
    content_type = content_type_for(path)
    if content_type is None:
        raise ValueError(f"{path.name}: {path.suffix or 'no extension'} is not a supported file type; "
                         f"send {', '.join(sorted(CONTENT_TYPES))}")  # fmt: skip
    return submit_request(
        document_id or path.name,
        "",
        path.stem if title is None else title,
        metadata,
        version,
        content=path.read_bytes(),
        content_type=content_type,
    )


def ask_fields(question: str, top_k: int, max_context_tokens: int, bypass_cache: bool) -> dict[str, object]:
    return {
        "question": question,
        "top_k": top_k,
        "max_context_tokens": max_context_tokens,
        "bypass_cache": bypass_cache,
    }


_MODES = {
    "": types_pb2.RETRIEVAL_MODE_UNSPECIFIED,
    "dense": types_pb2.RETRIEVAL_MODE_DENSE,
    "hybrid": types_pb2.RETRIEVAL_MODE_HYBRID,
}


def search_request(
    query: str, top_k: int, min_score: float, mode: str, max_chunks_per_document: int
) -> gateway_pb2.SearchRequest:
    """``mode``: "dense", "hybrid" or "" (the server's default, hybrid)."""
    if mode not in _MODES:
        raise ValueError(f"mode {mode!r} is unknown; use 'dense', 'hybrid' or '' (server default)")
    return gateway_pb2.SearchRequest(
        query=query,
        top_k=top_k,
        min_score=min_score,
        mode=_MODES[mode],
        max_chunks_per_document=max_chunks_per_document,
    )


def backoff_seconds(attempt: int) -> float:
    return float(min(0.2 * (2**attempt), 2.0))
