"""Plain domain types shared by the services (no protobuf here; entrypoints and adapters convert)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union

MetadataScalar = Union[str, int, float, bool]

# How a search finds chunks (ragmesh.common.v1.RetrievalMode): embedding similarity alone, or fused
# with BM25 term matching. None where a mode is optional means "the retriever's default".
RetrievalMode = Literal["dense", "hybrid"]
DENSE: RetrievalMode = "dense"
HYBRID: RetrievalMode = "hybrid"


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    document_id: str
    chunk_index: int
    version: int
    title: str
    text: str
    metadata: dict[str, MetadataScalar] = field(default_factory=dict)
    heading: str = ""  # the section's heading path, outer to inner, joined by HEADING_JOINER
    page: int = 0  # the PDF page (from 1); 0: the document has no pages


# Joins a section's heading path ("Install › Linux") in chunks and citations.
HEADING_JOINER = " › "


@dataclass(frozen=True)
class ScoredChunk:
    chunk: Chunk
    score: float


@dataclass(frozen=True)
class ChunkWithVector:
    chunk: Chunk
    vector: list[float]


@dataclass(frozen=True)
class Range:
    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None


@dataclass(frozen=True)
class MetadataFilter:
    """Exactly one of ``equals``, ``any_of`` or ``range`` is set."""

    field: str
    equals: MetadataScalar | None = None
    any_of: tuple[str, ...] | None = None
    range: Range | None = None


@dataclass(frozen=True)
class Citation:
    document_id: str
    chunk_id: str
    score: float
    title: str
    quote: str
    label: int
    heading: str = ""
    page: int = 0


@dataclass(frozen=True)
class TokenUsage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


UPSERT = "upsert"
DELETE = "delete"


@dataclass(frozen=True)
class DocumentCommand:
    """One document event: index (upsert) or remove (delete) a tenant's document."""

    operation: str  # UPSERT or DELETE
    tenant_id: str
    document_id: str
    version: int
    title: str = ""
    text: str = ""
    metadata: dict[str, MetadataScalar] = field(default_factory=dict)
    event_id: str = ""
    # The document as the user holds it (instead of text), and what it is (ragmesh_kit.content_types).
    content: bytes = b""
    content_type: str = ""


@dataclass(frozen=True)
class GeneratedPiece:
    """A piece of an answer as it streams."""

    text: str


# Grounding outcomes, as in ragmesh.common.v1.GroundingOutcome.
NOT_CHECKED = "not_checked"
GROUNDED = "grounded"
SENTENCES_DROPPED = "sentences_dropped"
EXTRACTIVE_FALLBACK = "extractive_fallback"


@dataclass(frozen=True)
class Grounding:
    """What the grounding guard did with a language model's answer."""

    outcome: str  # NOT_CHECKED, GROUNDED, SENTENCES_DROPPED or EXTRACTIVE_FALLBACK
    sentences_kept: int = 0
    sentences_dropped: int = 0
    answer_model: str = ""  # the model whose text the final answer is


@dataclass(frozen=True)
class GeneratedAnswer:
    """The end of a generation: the whole answer, what it cites, and the tokens it used."""

    answer: str
    citations: list[Citation]
    usage: TokenUsage
    grounding: Grounding | None = None  # None: not reported (a cache hit, an older generator)


# Document states, as in ragmesh.common.v1.DocumentState.
ACCEPTED = "accepted"
INDEXED = "indexed"
FAILED = "failed"
DELETED = "deleted"


@dataclass(frozen=True)
class DocumentStatus:
    document_id: str
    state: str  # ACCEPTED, INDEXED, FAILED or DELETED
    version: int
    chunk_count: int = 0
    reason: str = ""
