"""Splits text into chunks of at most N tokens (cl100k_base) that keep the document's structure:
lines stay lines (list items, table rows, code and doctest lines come through verbatim, indentation
included), chunks end at a block (blank line) boundary where one fits, else after a line that ends a
sentence, and neighbours overlap by a few trailing lines. A chunk that starts under a heading it
does not contain begins with that heading (and a table's header rows), so the generator knows what
the text is about: the heading is the context of the lines under it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ragmesh_kit.tokens import TokenCounter

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
_UNDERLINE = re.compile(r"^([*=\-~#^\"'`+.])\1{2,}\s*$")
_ATX_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+\S")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_ENDS_SENTENCE = (".", "!", "?", ":", ";")
_FENCE = re.compile(r"^\s*(```|~~~)")
# Lines kept as they are (not joined with their neighbours): list items, table rows, option lines.
_STRUCTURED = re.compile(r"^(?:[-*+\u2022]\s|\d+[.)]\s|\||--?[A-Za-z0-9]|>>>)")


@dataclass(frozen=True)
class ChunkingPolicy:
    max_tokens: int = 200
    overlap_tokens: int = 40

    def __post_init__(self) -> None:
        if self.max_tokens < 8 or not 0 <= self.overlap_tokens < self.max_tokens // 2:
            raise ValueError("chunking needs max_tokens >= 8 and 0 <= overlap < max_tokens / 2")


@dataclass(frozen=True)
class _Piece:
    text: str
    tokens: int
    sep: str  # what joins it to the piece before: " " (same line), "\n" (same block), "\n\n"
    context: str  # the heading (and table header) it sits under, as in the source
    is_context: bool  # it is that heading or header itself
    fence: str = ""  # the opening line of the code fence it sits in


def _heading_lines(lines: list[str], i: int) -> int:
    """How many lines a heading starting at line i takes (0: not a heading)."""
    if _ATX_HEADING.match(lines[i]):
        return 1
    following = lines[i + 1] if i + 1 < len(lines) else ""
    if lines[i].strip() and not lines[i][0].isspace() and _UNDERLINE.match(following):
        return 2
    return 0


class Chunker:
    def __init__(self, tokens: TokenCounter, policy: ChunkingPolicy) -> None:
        self._tokens = tokens
        self._policy = policy

    def _pieces(self, text: str) -> list[_Piece]:
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        pieces: list[_Piece] = []
        heading = ""
        table_header = ""
        sep = "\n\n"
        prose: list[str] = []
        in_fence = False

        fence = ""

        def add(line: str, is_header: bool = False) -> None:
            nonlocal sep
            context = f"{heading}\n\n{table_header}" if table_header and not is_header else heading
            for index, (part, count, joiner) in enumerate(self._split_line(line)):
                pieces.append(_Piece(part, count + 1, sep if index == 0 else joiner, context, is_header, fence))
            sep = "\n"

        def flush_prose() -> None:
            # Wrapped prose is one line per paragraph, so a chunk can end at any sentence in it.
            if prose:
                add(" ".join(" ".join(prose).split()))
                prose.clear()

        i = 0
        while i < len(lines):
            line = lines[i].rstrip()
            taken = 0 if in_fence else _heading_lines(lines, i)
            if taken:
                flush_prose()
                heading = "\n".join(lines[i : i + taken])
                table_header = ""
                pieces.append(_Piece(heading, self._tokens.count(heading) + 1, "\n\n", heading, True))
                sep = "\n\n"
                i += taken
                continue
            i += 1
            if _FENCE.match(line):
                flush_prose()
                in_fence = not in_fence
                fence = line if in_fence else ""
                add(line)
                fence = line if in_fence else ""
                continue
            if not line.strip() and not in_fence:
                flush_prose()
                sep = "\n\n"
                table_header = ""
                continue
            if not in_fence and not line[0].isspace() and not _STRUCTURED.match(line):
                prose.append(line)
                continue
            flush_prose()
            is_header = line.lstrip().startswith("|") and i < len(lines) and bool(_TABLE_SEPARATOR.match(lines[i]))
            if is_header:
                table_header = f"{line}\n{lines[i].rstrip()}"
                i += 1
                line = table_header
            add(line, is_header)
        flush_prose()
        return pieces

    def _split_line(self, line: str) -> list[tuple[str, int, str]]:
        """A line as it is, or (over half the limit) its sentences, or token windows of those;
        with what joins each part to the one before."""
        ids = self._tokens.encode(line)
        half = self._policy.max_tokens // 2
        if len(ids) <= half:
            return [(line, len(ids), "")]
        out: list[tuple[str, int, str]] = []
        for sentence in _SENTENCE_END.split(line):
            ids = self._tokens.encode(sentence)
            if len(ids) <= half:
                out.append((sentence, len(ids), " "))
                continue
            for start in range(0, len(ids), half):
                window = ids[start : start + half]  # decoded as is: the windows concatenate to the sentence
                out.append((self._tokens.decode(window), len(window), " " if start == 0 else ""))
        return [part for part in out if part[0].strip()]

    def _cut(self, current: list[_Piece]) -> int:
        """Where to end the chunk: at the last block boundary in its second half, else after the
        last piece there that ends a sentence, else after everything; never right after a heading
        or a line ending with ":" (what it introduces follows it)."""
        size = sum(piece.tokens for piece in current)
        used = 0
        blocks: list[int] = []
        sentences: list[int] = []
        for index, piece in enumerate(current):
            if index and piece.sep == "\n\n" and used >= size // 2:
                blocks.append(index)
            used += piece.tokens
            if index + 1 < len(current) and piece.text.rstrip().endswith(_ENDS_SENTENCE) and used >= size // 2:
                sentences.append(index + 1)
        for cut in reversed(blocks + sentences if not blocks else blocks):
            before = current[cut - 1]
            if not before.is_context and not before.text.rstrip().endswith(":"):
                return cut
        for cut in reversed(sentences):
            if not current[cut - 1].is_context and not current[cut - 1].text.rstrip().endswith(":"):
                return cut
        return len(current)

    def _overlap(self, emitted: list[_Piece]) -> list[_Piece]:
        """Trailing pieces of the emitted chunk within the overlap budget, starting at a sentence."""
        kept: list[_Piece] = []
        size = 0
        for piece in reversed(emitted):
            if piece.is_context or piece.text[:1].isspace() or size + piece.tokens > self._policy.overlap_tokens:
                break
            kept.insert(0, piece)
            size += piece.tokens
        while kept:
            start = emitted[len(emitted) - len(kept)]
            before = emitted[len(emitted) - len(kept) - 1] if len(kept) < len(emitted) else None
            if start.sep == "\n\n" or before is None or before.text.rstrip().endswith(_ENDS_SENTENCE):
                break
            kept.pop(0)
        return kept

    def _render(self, pieces: list[_Piece]) -> str:
        text = self._prefix(pieces)
        for index, piece in enumerate(pieces):
            text += (piece.sep if index else "") + piece.text
        if pieces[-1].fence and not _FENCE.match(pieces[-1].text):
            text += "\n" + pieces[-1].fence.split("`")[0].split("~")[0] + pieces[-1].fence.strip()[:3]
        return text

    @staticmethod
    def _prefix(pieces: list[_Piece]) -> str:
        """The heading (and table header, and code fence) a chunk starts under without holding it."""
        first = pieces[0]
        prefix = ""
        if first.context and not first.is_context and not first.context.startswith(first.text):
            prefix = first.context + ("\n" if first.context.rstrip().endswith("|") else "\n\n")
        if first.fence and first.text != first.fence:
            prefix += first.fence + "\n"
        return prefix

    def split(self, text: str) -> list[str]:
        chunks: list[str] = []
        current: list[_Piece] = []
        for piece in self._pieces(text):
            current.append(piece)
            while self._cost(current) > self._policy.max_tokens and len(current) > 1:
                cut = self._cut(current[:-1])
                emitted, rest = current[:cut], current[cut:]
                chunks.append(self._render(emitted))
                overlap = self._overlap(emitted)
                current = overlap + rest
                if self._cost(current) > self._policy.max_tokens and overlap:
                    current = rest  # the overlap does not fit beside what is left
        if current and not all(piece.is_context for piece in current):
            chunks.append(self._render(current))
        return chunks

    def _cost(self, pieces: list[_Piece]) -> int:
        prefix = self._prefix(pieces)
        closing = 2 if pieces[-1].fence else 0
        return (self._tokens.count(prefix) if prefix else 0) + closing + sum(piece.tokens for piece in pieces)
