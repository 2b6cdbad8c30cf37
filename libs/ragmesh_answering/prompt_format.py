"""Parses the prompt the generator service builds::

<instructions: free text, one or more lines>

<<<SOURCE 1>>>
title: <title>
document: <document id>
<chunk text, possibly several lines>
<<<END SOURCE>>>

<<<QUESTION>>>
<question text>
<<<ANSWER>>>
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SOURCE_RE = re.compile(r"<<<SOURCE\s+([^>\n]*?)\s*>>>\s*?\n(.*?)<<<END SOURCE>>>", re.DOTALL)
_QUESTION_RE = re.compile(r"<<<QUESTION>>>(.*?)(?:<<<ANSWER>>>|\Z)", re.DOTALL)
_META_RE = re.compile(r"^\s*(title|document|chunk)\s*:\s*(.*?)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Source:
    label: str
    title: str
    document: str
    text: str
    chunk: int = -1  # the chunk's number in its document (-1: not given)


@dataclass(frozen=True)
class Prompt:
    instructions: str
    sources: list[Source]
    question: str


def parse_prompt(prompt: str) -> Prompt:
    """Parse the generator prompt. Never raises: a prompt without markers is all question, no sources."""
    text = prompt.replace("\r\n", "\n").replace("\r", "\n")
    sources: list[Source] = []
    first_marker = None
    for m in _SOURCE_RE.finditer(text):
        if first_marker is None:
            first_marker = m.start()
        label = m.group(1).strip() or str(len(sources) + 1)
        title, document, chunk, body = _split_metadata(m.group(2))
        sources.append(Source(label=label, title=title, document=document, text=body, chunk=chunk))

    questions = list(_QUESTION_RE.finditer(text))
    q = questions[-1] if questions else None  # the last QUESTION block wins
    if q is not None:
        question = q.group(1).strip()
        if first_marker is None or q.start() < first_marker:
            first_marker = q.start()
    else:
        # No QUESTION marker: whatever follows the last source (or the whole prompt) is the question.
        tail_start = 0
        for m in _SOURCE_RE.finditer(text):
            tail_start = m.end()
        question = text[tail_start:].replace("<<<ANSWER>>>", "").strip()
    instructions = text[:first_marker].strip() if first_marker is not None else ""
    return Prompt(instructions=instructions, sources=sources, question=question)


def _split_metadata(block: str) -> tuple[str, str, int, str]:
    """Leading ``title:`` / ``document:`` / ``chunk:`` lines (any order, each at most once) are
    metadata."""
    lines = block.split("\n")
    meta: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip() and not meta:
            i += 1  # blank lines before the metadata
            continue
        m = _META_RE.match(line)
        if m and m.group(1).lower() not in meta:
            meta[m.group(1).lower()] = m.group(2)
            i += 1
            continue
        break
    chunk = meta.get("chunk", "").strip()
    number = int(chunk) if chunk.isdigit() else -1
    return meta.get("title", ""), meta.get("document", ""), number, "\n".join(lines[i:]).strip()
