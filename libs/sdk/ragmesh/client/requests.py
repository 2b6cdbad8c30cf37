"""Request building shared by the sync and async clients."""

from __future__ import annotations

from collections.abc import Mapping

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


def submit_request(
    document_id: str, text: str, title: str, metadata: MetadataInput | None, version: int
) -> gateway_pb2.SubmitDocumentRequest:
    return gateway_pb2.SubmitDocumentRequest(
        document_id=document_id,
        text=text,
        title=title,
        metadata={key: metadata_value(value) for key, value in (metadata or {}).items()},
        version=version,
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
