"""Sentence boundaries inside one run of prose (whitespace already folded)."""

from __future__ import annotations

import re

# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) + whitespace.
_SENT_END_RE = re.compile(r"(?<=[.!?])[\"')\]\u201d\u2019*`]*\s+")
_ABBREVIATIONS = frozenset(
    "e.g i.e etc vs mr mrs ms dr prof st no fig approx cf al inc ltd co jr sr jan feb mar apr jun jul aug "
    "sep sept oct nov dec".split()
)


def split_sentences(text: str) -> list[str]:
    """Splits prose at ``.``, ``!`` or ``?`` followed by whitespace, except after common
    abbreviations and single letters (initials)."""
    sentences: list[str] = []
    start = 0
    for m in _SENT_END_RE.finditer(text):
        candidate = text[start : m.start()]
        last_word = candidate.rstrip(".!?\"')]\u201d\u2019").rsplit(" ", 1)[-1].lower()
        if re.fullmatch(r"\s*(?:\d+|[A-Za-z])[.)]", candidate):
            continue  # a list marker ("1. The suite ...") is not a sentence
        if len(candidate.split()) <= 2 and candidate.startswith(("**", "`")):
            continue  # a bold or code label ("**Versions.** Each event ...") opens its sentence
        if candidate.endswith(".") and (last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha())):
            continue
        piece = text[start : m.end()].strip()
        if piece:
            sentences.append(piece)
        start = m.end()
    rest = text[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences
