"""Units a reader would quote, from the text of one source (plain text with rst-style headings as
CPython's reference renders it, or markdown).

- Markup-only lines (heading underlines of ``*=-~#^``, ``---`` rules, table separator rows, code
  fences) are never units.
- A heading (rst underline or overline, markdown ``#``) is not a unit: it becomes the ``context`` of
  the units under it; a table's header row is the context of its rows.
- Prose is joined across its wrapped lines and split into sentences; each list item (with its
  marker), option line and table row is its own unit (a long list item is split into its sentences).
- Code blocks (grammar ``::=``, doctests ``>>>``, indented or fenced code) give one unit per line,
  verbatim but for the block's indentation.
- ``leads``: the unit ends with ":" (or is prose directly followed by code), so what follows belongs
  to it.

Unit text always occurs in the source once runs of whitespace are folded to one space (code lines:
exactly, as a substring of their line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ragmesh_answering.sentences import split_sentences

# A line made only of these (and spaces) carries no words: rules, underlines, table separators.
_MARKUP_LINE = re.compile(r"^\s*[*=\-~#^_+|`'\"<>][\s*=\-~#^_+|`'\"<>]*$")
_UNDERLINE = re.compile(r"^\s*([*=\-~#^\"'`+.])\1{2,}\s*$")
_ATX_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_BULLET = re.compile(r"^(\s*)(?:[-*+\u2022]|\d+[.)]|[a-z][.)])\s+")
_OPTION = re.compile(r"^\s*--?[A-Za-z0-9]")
_WORD = re.compile(r"^[\"'“‘(*`]*[A-Za-z][A-Za-z’'\-]*[\"'”’),.;:!?*`]*$")


@dataclass(frozen=True)
class Unit:
    text: str
    kind: str  # sentence, item, row, option, code
    context: str  # the heading (and table header) the unit sits under; "" at the top
    block: int  # units of one paragraph, list, table or code block share it
    leads: bool  # what follows belongs to it (ends with ":" or introduces code)


def is_markup_only(line: str) -> bool:
    return _MARKUP_LINE.match(line) is not None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _fold(text: str) -> str:
    return " ".join(text.split())


def _reads_as_prose(lines: list[str]) -> bool:
    """Indented text is prose (a note, a list item's second paragraph) when it reads as sentences;
    otherwise it is code or a grammar and stays line by line."""
    text = _fold(" ".join(lines))
    if "::=" in text or text.startswith((">>>", "$ ", "...")):
        return False
    tokens = text.split()
    if len(tokens) < 4:  # a short label such as "Note:" or "See also:"
        return text.endswith(":") and all(_WORD.match(token) for token in tokens)
    if not text.rstrip("*`\"'”)").endswith((".", "!", "?", ":")):
        return False
    words = sum(1 for token in tokens if _WORD.match(token))
    return words / len(tokens) >= 0.8


class _Splitter:
    def __init__(self) -> None:
        self.units: list[Unit] = []
        self.heading = ""
        self.table_header = ""
        self.block = 0

    @property
    def context(self) -> str:
        return f"{self.heading} | {self.table_header}" if self.table_header else self.heading

    def add(self, text: str, kind: str, leads: bool | None = None) -> None:
        text = text.strip()
        if not text or is_markup_only(text):
            return
        self.units.append(Unit(text, kind, self.context, self.block, text.endswith(":") if leads is None else leads))

    def prose(self, lines: list[str], kind: str = "sentence") -> None:
        for sentence in split_sentences(_fold(" ".join(lines))):
            self.add(sentence, kind)

    def code(self, lines: list[str]) -> None:
        base = min((_indent(line) for line in lines if line.strip()), default=0)
        for line in lines:
            if line.strip():
                self.add(line[base:].rstrip(), "code", leads=False)

    def items(self, lines: list[str]) -> None:
        """A list: each item (its marker line and the lines indented under it) is a unit, split
        into sentences when it holds several."""
        item: list[str] = []
        marker_indent = -1
        for line in lines:
            bullet = _BULLET.match(line)
            if bullet and (marker_indent < 0 or _indent(line) <= marker_indent):
                self._item(item)
                item = [line.strip()]  # the marker stays: "2. The suite is executed." as written
                marker_indent = _indent(line)
            else:
                item.append(line)
        self._item(item)

    def _item(self, lines: list[str]) -> None:
        if lines:
            self.prose(lines, "item")

    def options(self, lines: list[str]) -> None:
        current: list[str] = []
        for line in lines:
            if _OPTION.match(line) and current:
                self.add(" ".join(part.strip() for part in current), "option")
                current = []
            current.append(line)
        if current:
            self.add(" ".join(part.strip() for part in current), "option")

    def table(self, lines: list[str]) -> None:
        rows = [line for line in lines if not is_markup_only(line)]
        has_header = len(lines) > 1 and is_markup_only(lines[1])
        if has_header and rows:
            self.table_header = _fold(rows[0])
            rows = rows[1:]
        for row in rows:
            self.add(row.strip(), "row", leads=False)
        self.table_header = ""


def _heading_at(lines: list[str], i: int) -> tuple[str, int] | None:
    """(heading text, lines it takes) when a heading starts at line i."""
    line = lines[i]
    atx = _ATX_HEADING.match(line)
    if atx:
        return atx.group(2), 1
    nxt = lines[i + 1] if i + 1 < len(lines) else ""
    if line.strip() and not is_markup_only(line) and _UNDERLINE.match(nxt) and _indent(line) == 0:
        return line.strip(), 2
    if _UNDERLINE.match(line) and i + 2 < len(lines) and _UNDERLINE.match(lines[i + 2]) and lines[i + 1].strip():
        return lines[i + 1].strip(), 3  # overline, title, underline
    return None


def _blocks(lines: list[str]) -> list[tuple[int, list[str]]]:
    """Groups lines into blocks: headings, fenced code, and runs of non-blank lines."""
    out: list[tuple[int, list[str]]] = []
    i = 0
    current: list[str] = []

    def flush() -> None:
        nonlocal current
        if current:
            out.append((0, current))
            current = []

    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            flush()
            j = i + 1
            while j < len(lines) and not _FENCE.match(lines[j]):
                j += 1
            out.append((1, lines[i + 1 : j]))  # 1: fenced code
            i = j + 1
            continue
        heading = _heading_at(lines, i)
        if heading is not None:
            flush()
            out.append((2, [heading[0]]))  # 2: heading
            i += heading[1]
            continue
        if not line.strip():
            flush()
        else:
            current.append(line)
        i += 1
    flush()
    return out


@lru_cache(maxsize=2048)
def split_units(text: str) -> tuple[Unit, ...]:
    """The units of one source, in source order (cached: popular chunks come back question after
    question)."""
    splitter = _Splitter()
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for kind, block in _blocks(lines):
        splitter.block += 1
        if kind == 2:
            splitter.heading = block[0]
            continue
        if kind == 1:
            splitter.code(block)
            continue
        body = [line for line in block if not is_markup_only(line) or line.strip().startswith("|")]
        if not body:
            continue
        first = body[0].strip()
        if all(line.strip().startswith("|") for line in block):
            splitter.table(block)
        elif first.startswith(">>>") or any("::=" in line for line in body):
            splitter.code(body)
        elif _BULLET.match(body[0]):
            splitter.items(body)
        elif all(_OPTION.match(line) or _indent(line) > _indent(body[0]) for line in body) and _OPTION.match(body[0]):
            splitter.options(body)
        elif _indent(body[0]) > 0 and not _reads_as_prose(body):
            splitter.code(body)
        else:
            splitter.prose(body)
    return tuple(_mark_leads(splitter.units))


def _mark_leads(units: list[Unit]) -> list[Unit]:
    """Prose directly followed by code introduces it ("...the yield statements" + the code)."""
    out: list[Unit] = []
    for index, unit in enumerate(units):
        following = units[index + 1] if index + 1 < len(units) else None
        if (
            not unit.leads
            and unit.kind == "sentence"
            and following is not None
            and following.kind == "code"
            and following.block == unit.block + 1
            and not unit.text.endswith((".", "!", "?"))
        ):
            unit = Unit(unit.text, unit.kind, unit.context, unit.block, True)
        out.append(unit)
    return out
