"""Maps the source labels an answer cites ("... [2]") back to the chunks they came from.

A source's own text may hold bracketed numbers (a footnote "[1]", a grammar's "[2]"), so a marker
ends a citation only when the text before it (back to the previous citation) is that source's text:
of the markers that do, the furthest wins. An answer whose quotes are not found in their sources
(a generative model paraphrasing) falls back to the nearest marker."""

from __future__ import annotations

import re

from ragmesh_kit.domain import Citation
from services.generator.app.prompt import PromptSource

_MARKER = re.compile(r"\[(\d+)\]")


def _fold(text: str) -> str:
    return " ".join(text.split())


def quotes(answer: str, by_label: dict[int, PromptSource]) -> list[tuple[int, str]]:
    """Every (label, quote) of an answer, in answer order."""
    markers = [m for m in _MARKER.finditer(answer) if int(m.group(1)) in by_label]
    folded = {label: _fold(source.text) for label, source in by_label.items()}
    found: list[tuple[int, str]] = []
    start = 0
    index = 0
    while index < len(markers):
        chosen = None
        for ahead in range(index, len(markers)):
            marker = markers[ahead]
            quote = answer[start : marker.start()].strip()
            if quote and _fold(quote) in folded[int(marker.group(1))]:
                chosen = ahead
        if chosen is None:  # not quoted verbatim: the nearest marker ends it
            chosen = index
        marker = markers[chosen]
        found.append((int(marker.group(1)), answer[start : marker.start()].strip()))
        start = marker.end()
        index = chosen + 1
    return found


def extract_citations(answer: str, sources: list[PromptSource]) -> list[Citation]:
    by_label = {source.label: source for source in sources}
    citations: list[Citation] = []
    cited: set[int] = set()
    for label, quote in quotes(answer, by_label):
        if label in cited:
            continue
        cited.add(label)
        chunk = by_label[label].scored.chunk
        citations.append(
            Citation(
                document_id=chunk.document_id,
                chunk_id=chunk.chunk_id,
                score=by_label[label].scored.score,
                title=chunk.title,
                quote=quote,
                label=label,
                heading=chunk.heading,
                page=chunk.page,
            )
        )
    return citations
