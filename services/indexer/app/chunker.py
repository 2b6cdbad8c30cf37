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

    def _units(self, text: str) -> list[tuple[str, int]]:
        """Sentences (or token windows of over-long sentences) with their token counts; a
        paragraph break is kept as a unit boundary by ending the previous sentence."""
        units: list[tuple[str, int]] = []
        for paragraph in _PARAGRAPHS.split(text):
            paragraph = " ".join(paragraph.split())
            if not paragraph:
                continue
            for sentence in _SENTENCE_END.split(paragraph):
                ids = self._tokens.encode(sentence)
                if len(ids) <= self._policy.max_tokens:
                    units.append((sentence, len(ids)))
                    continue
                step = self._policy.max_tokens
                for start in range(0, len(ids), step):
                    piece = ids[start : start + step]
                    units.append((self._tokens.decode(piece).strip(), len(piece)))
        return [unit for unit in units if unit[0]]

    def split(self, text: str) -> list[str]:
        chunks: list[str] = []
        current: list[tuple[str, int]] = []
        size = 0
        for unit in self._units(text):
            # +1 per unit approximates the joining space, so a chunk never exceeds the limit.
            if current and size + unit[1] + 1 > self._policy.max_tokens:
                chunks.append(" ".join(part for part, _ in current))
                overlap: list[tuple[str, int]] = []
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
            chunks.append(" ".join(part for part, _ in current))
        return chunks
