"""Plain domain types shared by the services (no protobuf here; entrypoints and adapters convert)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
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
    # cl100k_base tokens of the text as a prompt source carries it (see ``tokens.source_tokens``),
    # counted at index time; 0 when unknown.
    text_tokens: int = 0


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


class Operation(StrEnum):
    """What a document event asks for."""

    UPSERT = "upsert"
    DELETE = "delete"


UPSERT, DELETE = Operation.UPSERT, Operation.DELETE


@dataclass(frozen=True)
class DocumentCommand:
    """One document event: index (upsert) or remove (delete) a tenant's document."""

    operation: Operation
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


class GroundingOutcome(StrEnum):
    """As in ragmesh.common.v1.GroundingOutcome; the values are also the metric's label values."""

    NOT_CHECKED = "not_checked"
    GROUNDED = "grounded"
    SENTENCES_DROPPED = "sentences_dropped"
    EXTRACTIVE_FALLBACK = "extractive_fallback"


NOT_CHECKED, GROUNDED = GroundingOutcome.NOT_CHECKED, GroundingOutcome.GROUNDED
SENTENCES_DROPPED, EXTRACTIVE_FALLBACK = GroundingOutcome.SENTENCES_DROPPED, GroundingOutcome.EXTRACTIVE_FALLBACK


@dataclass(frozen=True)
class Grounding:
    """What the grounding guard did with a language model's answer."""

    outcome: GroundingOutcome
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


class DocumentState(StrEnum):
    """As in ragmesh.common.v1.DocumentState; the values are what the retriever stores."""

    ACCEPTED = "accepted"
    INDEXED = "indexed"
    FAILED = "failed"
    DELETED = "deleted"


ACCEPTED, INDEXED = DocumentState.ACCEPTED, DocumentState.INDEXED
FAILED, DELETED = DocumentState.FAILED, DocumentState.DELETED


@dataclass(frozen=True)
class DocumentStatus:
    document_id: str
    state: DocumentState
    version: int
    chunk_count: int = 0
    reason: str = ""
