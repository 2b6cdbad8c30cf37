"""Maps the source labels an answer cites ("... [2]") back to the chunks they came from."""

from __future__ import annotations

import re

from ragmesh_kit.domain import Citation
from services.generator.app.prompt import PromptSource

_MARKED_SENTENCE = re.compile(r"([^\[\]]*?)\s*\[(\d+)\]")


def extract_citations(answer: str, sources: list[PromptSource]) -> list[Citation]:
    by_label = {source.label: source for source in sources}
    citations: list[Citation] = []
    cited: set[int] = set()
    for match in _MARKED_SENTENCE.finditer(answer):
        label = int(match.group(2))
        source = by_label.get(label)
        if source is None or label in cited:
            continue
        cited.add(label)
        chunk = source.scored.chunk
        citations.append(
            Citation(
                document_id=chunk.document_id,
                chunk_id=chunk.chunk_id,
                score=source.scored.score,
                title=chunk.title,
                quote=match.group(1).strip(),
                label=label,
            )
        )
    return citations
