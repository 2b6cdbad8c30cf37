"""What the two Qdrant adapters share: point ids, the payload layout and the filter rules.

The adapters talk to different libraries (qdrant-edge in-process, qdrant-client for a server), whose
filter classes differ; so this module turns a request's filters into neutral ``Condition`` values and
each adapter maps those to its own library's objects in a few lines, with no rule written twice.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from ragmesh_kit.domain import Chunk, DocumentState, DocumentStatus, MetadataFilter, MetadataScalar, Range, ScoredChunk
from ragmesh_kit.errors import InvalidArgument
from services.retriever.app.term_weights import SparseTerms, document_terms

# Fixed namespace: changing it would re-key every stored point, so it is a constant, not a setting.
_POINT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "ragmesh:retriever:chunk")
_STATE_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "ragmesh:retriever:document-state")

TENANT = "tenant"
DOCUMENT_ID = "document_id"
CHUNK_ID = "chunk_id"
CHUNK_INDEX = "chunk_index"
VERSION = "version"
TITLE = "title"
TEXT = "text"
HEADING = "heading"
PAGE = "page"
TEXT_TOKENS = "text_tokens"
META = "meta"
# Boolean metadata is also written here as 0/1: qdrant-edge-py 0.9.0 cannot match a bool (its
# MatchValue turns Python ``True`` into the integer 1, which never equals a JSON ``true``), so bool
# filters match this integer copy instead. Both adapters use it, so either store holds the same points.
META_BOOL = "meta_bool"

# The named sparse vector of every chunk point (BM25 term weights, IDF modifier); the dense vector
# stays the unnamed default, so points written before hybrid retrieval keep their layout.
SPARSE_VECTOR = "terms"
# Reciprocal rank fusion: score = sum over the lists of 1 / (k + rank), rank from 0. Measured on 136
# look-alike stdlib API notes asked "What does <qualified name> do?" (MiniLM int8): recall@5 1.00 with
# k 2 (Qdrant's default) or 5, 0.95 with 10, 0.91 with 60 (the paper's), dense alone 0.71. A small k
# lets a list's clear first hit (the identifier's own chunk) stand out.
DEFAULT_RRF_K = 5
# Each list of a hybrid search (dense, terms) brings at least this many candidates to the fusion.
DEFAULT_HYBRID_CANDIDATES = 50

IndexKind = Literal["tenant_keyword", "keyword", "integer", "float", "datetime"]
# Payload indexes both adapters create. ``tenant`` is the tenant index (Qdrant co-locates a tenant's
# points and plans tenant-filtered searches per tenant); the others make deletes by document/version
# cheap.
PAYLOAD_INDEXES: tuple[tuple[str, IndexKind], ...] = (
    (TENANT, "tenant_keyword"),
    (DOCUMENT_ID, "keyword"),
    (VERSION, "integer"),
)


def metadata_indexes(fields: Mapping[str, str]) -> list[tuple[str, IndexKind]]:
    """Payload indexes of the declared metadata fields (name -> keyword/int/float/bool/datetime)."""
    kinds: dict[str, IndexKind] = {"keyword": "keyword", "int": "integer", "float": "float", "datetime": "datetime"}
    indexes: list[tuple[str, IndexKind]] = []
    for name, kind in sorted(fields.items()):
        if kind == "bool":
            indexes.append((f"{META_BOOL}.{name}", "integer"))  # bools are matched on their 0/1 copy
        else:
            indexes.append((f"{META}.{name}", kinds[kind]))
    return indexes


def point_id(tenant_id: str, chunk_id: str) -> str:
    """The point id of a chunk: the same (tenant, chunk) always gives the same id, so a redelivered
    chunk overwrites itself, and two tenants using the same chunk id never share a point. The pair is
    JSON-encoded so that no separator character can make two different pairs collide."""
    return str(uuid.uuid5(_POINT_NAMESPACE, json.dumps([tenant_id, chunk_id])))


def build_payload(tenant_id: str, chunk: Chunk) -> dict[str, Any]:
    bools = {k: int(v) for k, v in chunk.metadata.items() if isinstance(v, bool)}
    payload: dict[str, Any] = {
        TENANT: tenant_id,
        DOCUMENT_ID: chunk.document_id,
        CHUNK_ID: chunk.chunk_id,
        CHUNK_INDEX: chunk.chunk_index,
        VERSION: chunk.version,
        TITLE: chunk.title,
        TEXT: chunk.text,
        META: dict(chunk.metadata),
    }
    # Only when set: chunks of plain text keep the payload they had before documents had structure.
    if chunk.heading:
        payload[HEADING] = chunk.heading
    if chunk.page:
        payload[PAGE] = chunk.page
    if chunk.text_tokens:
        payload[TEXT_TOKENS] = chunk.text_tokens
    if bools:
        payload[META_BOOL] = bools
    return payload


def parse_payload(payload: Mapping[str, Any] | None) -> Chunk:
    p = payload or {}
    meta: dict[str, MetadataScalar] = dict(p.get(META) or {})
    return Chunk(
        chunk_id=str(p.get(CHUNK_ID, "")),
        document_id=str(p.get(DOCUMENT_ID, "")),
        chunk_index=int(p.get(CHUNK_INDEX, 0)),
        version=int(p.get(VERSION, 0)),
        title=str(p.get(TITLE, "")),
        text=str(p.get(TEXT, "")),
        metadata=meta,
        heading=str(p.get(HEADING, "")),
        page=int(p.get(PAGE, 0)),
        # Points written before the count was stored have none: 0, the generator counts itself.
        text_tokens=int(p.get(TEXT_TOKENS, 0)),
    )


def chunk_terms(chunk: Chunk) -> SparseTerms:
    """What the keyword half of hybrid search matches: the title (often the identifier a question
    names) and the text."""
    return document_terms(f"{chunk.title}\n{chunk.text}" if chunk.title else chunk.text)


def payload_terms(payload: Mapping[str, Any] | None) -> SparseTerms:
    """The sparse vector of a stored point, from its payload (backfilling points written before
    the sparse vector existed)."""
    return chunk_terms(parse_payload(payload))


def fused_results(
    found: Sequence[tuple[Sequence[float] | None, Mapping[str, Any] | None]],
    query: Sequence[float],
    top_k: int,
    score_threshold: float,
) -> list[ScoredChunk]:
    """Fused (rank-ordered) hits -> chunks scored by cosine to the query, in fused order.

    The fused score only orders; callers read a chunk's score as cosine similarity (the gateway's
    min_score, the generator's ordering, citations), so each hit is scored by its stored dense
    vector (normalised by Qdrant on write) against the query, and ``score_threshold`` applies to
    that cosine as in a dense search: a chunk found by its terms alone must still clear it."""
    norm = math.sqrt(sum(x * x for x in query)) or 1.0
    unit = [x / norm for x in query]
    threshold = effective_threshold(score_threshold)
    kept: list[ScoredChunk] = []
    for vector, payload in found:
        score = sum(a * b for a, b in zip(unit, vector or (), strict=False))
        if threshold is not None and score < threshold:
            continue
        kept.append(ScoredChunk(chunk=parse_payload(payload), score=score))
        if len(kept) == top_k:
            break
    return kept


# Document states live in their own collection (shard), one payload point per (tenant, document).
STATE = "state"
CHUNK_COUNT = "chunk_count"
REASON = "reason"
STATE_VECTOR = [1.0]  # states are looked up by id only; Qdrant still wants a vector per point


def state_point_id(tenant_id: str, document_id: str) -> str:
    return str(uuid.uuid5(_STATE_NAMESPACE, json.dumps([tenant_id, document_id])))


def build_state_payload(tenant_id: str, status: DocumentStatus) -> dict[str, Any]:
    return {
        TENANT: tenant_id,
        DOCUMENT_ID: status.document_id,
        STATE: status.state,
        VERSION: status.version,
        CHUNK_COUNT: status.chunk_count,
        REASON: status.reason,
    }


def parse_state_payload(payload: Mapping[str, Any] | None) -> DocumentStatus:
    p = payload or {}
    return DocumentStatus(
        document_id=str(p.get(DOCUMENT_ID, "")),
        state=DocumentState(str(p.get(STATE, DocumentState.ACCEPTED))),
        version=int(p.get(VERSION, 0)),
        chunk_count=int(p.get(CHUNK_COUNT, 0)),
        reason=str(p.get(REASON, "")),
    )


@dataclass(frozen=True)
class DatetimeRange:
    """Bounds as RFC 3339 strings (both Qdrant libraries accept them for datetime-indexed fields)."""

    gt: str | None = None
    gte: str | None = None
    lt: str | None = None
    lte: str | None = None


@dataclass(frozen=True)
class Condition:
    """One library-neutral filter condition on a payload key.

    kind ``value``: exact match of ``value`` (str or int); ``any``: match one of ``values``;
    ``range``: numeric range ``rng``; ``datetime_range``: time range ``dt``.
    """

    key: str
    kind: Literal["value", "any", "range", "datetime_range"]
    value: str | int | None = None
    values: tuple[str, ...] = ()
    rng: Range | None = None
    dt: DatetimeRange | None = None


def tenant_condition(tenant_id: str) -> Condition:
    return Condition(key=TENANT, kind="value", value=tenant_id)


def search_conditions(
    tenant_id: str, filters: Sequence[MetadataFilter], datetime_fields: Collection[str] = ()
) -> list[Condition]:
    """The tenant condition first (every search is confined to one tenant), then one per filter.
    Filters on ``datetime_fields`` compare times: range bounds are Unix seconds, equals an ISO string."""
    return [
        tenant_condition(tenant_id),
        *(_datetime_condition(f) if f.field in datetime_fields else _metadata_condition(f) for f in filters),
    ]


def _rfc3339(value: float | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    else:
        moment = datetime.fromtimestamp(value, tz=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _datetime_condition(f: MetadataFilter) -> Condition:
    key = f"{META}.{f.field}"
    try:
        if f.range is not None and f.equals is None and f.any_of is None:
            r = f.range
            if r.gt is None and r.gte is None and r.lt is None and r.lte is None:
                raise InvalidArgument(f"range filter on {f.field!r} has no bound")
            bounds = DatetimeRange(_rfc3339(r.gt), _rfc3339(r.gte), _rfc3339(r.lt), _rfc3339(r.lte))
            return Condition(key=key, kind="datetime_range", dt=bounds)
        if isinstance(f.equals, str) and f.range is None and f.any_of is None:
            moment = _rfc3339(f.equals)
            return Condition(key=key, kind="datetime_range", dt=DatetimeRange(gte=moment, lte=moment))
    except (ValueError, OverflowError, OSError) as error:
        raise InvalidArgument(f"filter on {f.field!r}: not a date-time: {error}") from error
    raise InvalidArgument(f"filter on {f.field!r} (datetime) takes a range of Unix seconds or equals an ISO time")


def delete_conditions(tenant_id: str, document_id: str, below_version: int) -> list[Condition]:
    conds = [tenant_condition(tenant_id), Condition(key=DOCUMENT_ID, kind="value", value=document_id)]
    if below_version > 0:
        conds.append(Condition(key=VERSION, kind="range", rng=Range(lt=float(below_version))))
    return conds


def _metadata_condition(f: MetadataFilter) -> Condition:
    if not f.field:
        raise InvalidArgument("metadata filter without a field name")
    set_count = sum(x is not None for x in (f.equals, f.any_of, f.range))
    if set_count != 1:
        raise InvalidArgument(f"metadata filter on {f.field!r} must set exactly one of equals, any_of, range")
    key = f"{META}.{f.field}"
    if f.equals is not None:
        v = f.equals
        if isinstance(v, bool):  # before int: bool is an int subclass
            return Condition(key=f"{META_BOOL}.{f.field}", kind="value", value=int(v))
        if isinstance(v, float):
            # Qdrant matches only str/int/bool exactly; a float equality is the closed range [v, v]
            # (which also matches an integer payload of the same value, as Python's == would).
            return Condition(key=key, kind="range", rng=Range(gte=v, lte=v))
        return Condition(key=key, kind="value", value=v)
    if f.any_of is not None:
        return Condition(key=key, kind="any", values=tuple(f.any_of))
    assert f.range is not None
    r = f.range
    if r.gt is None and r.gte is None and r.lt is None and r.lte is None:
        raise InvalidArgument(f"range filter on {f.field!r} has no bound")
    return Condition(key=key, kind="range", rng=r)


def effective_threshold(score_threshold: float) -> float | None:
    """0 means "no threshold" (the proto default cannot be told apart from unset); cosine scores can
    be negative, so passing 0 through would silently drop results."""
    return None if score_threshold == 0 else score_threshold
