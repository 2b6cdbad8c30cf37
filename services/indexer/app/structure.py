"""A document as its structure: sections (each with its heading path and, for a PDF, its page)
holding paragraphs, list items, table rows and code blocks. Every parser (markdown, HTML, PDF)
builds one with ``DocumentBuilder``; chunking renders each section in the plain layout the chunker
and the generator's answer units already read (a heading line, blank-line separated paragraphs, one
line per list item, a fenced code block), so no markup of the source reaches a chunk: table rows
become sentences ("Port: 9092; Component: Kafka."), inline markup is gone, and the only marker kept
is the heading line, which neither a quote nor an answer ever holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ragmesh_kit.domain import HEADING_JOINER

BlockKind = Literal["paragraph", "item", "row", "code"]
_SENTENCE_END = (".", "!", "?", ":", ";")


class UnreadableDocument(Exception):
    """The document cannot be indexed as declared (corrupt, encrypted, no text, not its type); the
    message says why and is the document's FAILED reason."""


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    text: str


@dataclass
class Section:
    headings: tuple[str, ...]  # outer to inner; () before the first heading
    page: int = 0  # PDF page from 1; 0: no pages
    blocks: list[Block] = field(default_factory=list)

    @property
    def heading(self) -> str:
        return HEADING_JOINER.join(self.headings)


@dataclass
class StructuredDocument:
    sections: list[Section]
    title: str = ""  # what the source calls itself (HTML <title>, PDF metadata, first heading)

    def has_text(self) -> bool:
        return any(block.text.strip() for section in self.sections for block in section.blocks)


def fold(text: str) -> str:
    return " ".join(text.split())


class DocumentBuilder:
    """Collects blocks in reading order; a heading opens a section at its level (closing deeper
    ones), a page opens a section under the same headings."""

    def __init__(self) -> None:
        self._levels: list[tuple[int, str]] = []
        self._page = 0
        self.title = ""
        self.sections: list[Section] = [Section(())]

    def _open(self) -> None:
        headings = tuple(text for _, text in self._levels)
        current = self.sections[-1]
        if current.blocks:
            self.sections.append(Section(headings, self._page))
        else:
            current.headings, current.page = headings, self._page

    def heading(self, level: int, text: str) -> None:
        text = fold(text)
        if not text:
            return
        while self._levels and self._levels[-1][0] >= level:
            self._levels.pop()
        self._levels.append((level, text))
        self.title = self.title or text
        self._open()

    def page(self, number: int) -> None:
        self._page = number
        self._open()

    def paragraph(self, text: str) -> None:
        text = fold(text)
        if text:
            self.sections[-1].blocks.append(Block("paragraph", text))

    def item(self, text: str, marker: str = "\u2022") -> None:
        text = fold(text)
        if text:
            self.sections[-1].blocks.append(Block("item", f"{marker} {text}"))

    def row(self, cells: list[str], header: list[str] | None = None) -> None:
        """A table row as the sentence a reader would say: "Header: value; Header: value."."""
        values = [fold(cell) for cell in cells]
        names = [fold(name) for name in header or []]
        parts = [
            f"{names[i]}: {value}" if i < len(names) and names[i] and names[i] != value else value
            for i, value in enumerate(values)
            if value
        ]
        if parts:
            text = "; ".join(parts)
            self.sections[-1].blocks.append(Block("row", text if text.endswith(_SENTENCE_END) else text + "."))

    def code(self, text: str) -> None:
        lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        if lines:
            self.sections[-1].blocks.append(Block("code", "\n".join(lines)))

    def build(self) -> StructuredDocument:
        return StructuredDocument([s for s in self.sections if s.blocks], self.title)


def render_section(section: Section) -> str:
    """The section in the chunker's plain layout: the heading path as one heading line, then the
    blocks; consecutive list items stay one list."""
    parts: list[str] = [f"# {section.heading}"] if section.headings else []
    previous: BlockKind | None = None
    for block in section.blocks:
        if block.kind == "code":
            # Backticks inside the code would end the fence early: a longer fence holds them.
            fence = "````" if "```" in block.text else "```"
            parts.append(f"{fence}\n{block.text}\n{fence}")
        elif block.kind == "item" and previous == "item":
            parts[-1] += "\n" + block.text
        else:
            parts.append(block.text)
        previous = block.kind
    return "\n\n".join(parts)
