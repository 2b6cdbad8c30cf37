"""Splits text into chunks of at most N tokens (cl100k_base), preferring paragraph and sentence
boundaries, with an overlap of trailing sentences between neighbours."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ragmesh_kit.tokens import TokenCounter

_PARAGRAPHS = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")


@dataclass(frozen=True)
class ChunkingPolicy:
    max_tokens: int = 200
    overlap_tokens: int = 40

    def __post_init__(self) -> None:
        if self.max_tokens < 8 or not 0 <= self.overlap_tokens < self.max_tokens // 2:
            raise ValueError("chunking needs max_tokens >= 8 and 0 <= overlap < max_tokens / 2")


class Chunker:
    def __init__(self, tokens: TokenCounter, policy: ChunkingPolicy) -> None:
        self._tokens = tokens
        self._policy = policy

    def _units(self, text: str) -> list[tuple[str, int, int]]:
        """Sentences (or token windows of over-long sentences) with their token counts and the
        number of the paragraph they belong to."""
        units: list[tuple[str, int, int]] = []
        for number, paragraph in enumerate(_PARAGRAPHS.split(text)):
            paragraph = " ".join(paragraph.split())
            if not paragraph:
                continue
            for sentence in _SENTENCE_END.split(paragraph):
                ids = self._tokens.encode(sentence)
                if len(ids) <= self._policy.max_tokens:
                    units.append((sentence, len(ids), number))
                    continue
                step = self._policy.max_tokens
                for start in range(0, len(ids), step):
                    piece = ids[start : start + step]
                    units.append((self._tokens.decode(piece).strip(), len(piece), number))
        return [unit for unit in units if unit[0]]

    @staticmethod
    def _join(units: list[tuple[str, int, int]]) -> str:
        """Sentences of one paragraph joined by a space, paragraphs by a blank line (so a heading
        never runs into the sentence after it)."""
        text = ""
        for index, (part, _, paragraph) in enumerate(units):
            if index:
                text += "\n\n" if paragraph != units[index - 1][2] else " "
            text += part
        return text

    def split(self, text: str) -> list[str]:
        chunks: list[str] = []
        current: list[tuple[str, int, int]] = []
        size = 0
        for unit in self._units(text):
            # +1 per unit approximates the joining space, so a chunk never exceeds the limit.
            if current and size + unit[1] + 1 > self._policy.max_tokens:
                chunks.append(self._join(current))
                overlap: list[tuple[str, int, int]] = []
                kept = 0
                for part in reversed(current):
                    if kept + part[1] > self._policy.overlap_tokens:
                        break
                    overlap.insert(0, part)
                    kept += part[1] + 1
                current, size = overlap, kept
            current.append(unit)
            size += unit[1] + 1
        if current:
            chunks.append(self._join(current))
        return chunks
