"""Streaming pieces of an answer."""

from __future__ import annotations

import re


def pieces(text: str) -> list[str]:
    """Split an answer into word pieces for streaming; ``"".join(pieces(t)) == t``.

    Each piece is one word with the whitespace before it (like LLM tokens: "Paris", " is", ...).
    """
    parts = re.findall(r"\s*\S+", text)
    tail = text[len("".join(parts)) :]
    if tail:  # trailing whitespace
        if parts:
            parts[-1] += tail
        else:
            parts = [tail]
    return parts


def group_by_sentence(parts: list[str]) -> list[str]:
    """Regroups word pieces into one piece per answer sentence (each ends with its citation marker):
    an extractive model produces whole sentences, and a piece per word costs a response per word."""
    groups: list[str] = []
    current = ""
    for part in parts:
        current += part
        if re.search(r"\[\d+\]\s*$", part):
            groups.append(current)
            current = ""
    if current:
        groups.append(current)
    return groups


def answer_pieces(text: str, max_tokens: int | None, granularity: str) -> list[str]:
    """The pieces an answer streams as (the Triton model and the generator's in-process answerer
    alike): word pieces cut to ``max_tokens`` (None: all), then one piece per sentence unless
    ``granularity`` is "word"."""
    parts = pieces(text)
    if max_tokens is not None:
        parts = parts[:max_tokens]
    return group_by_sentence(parts) if granularity == "sentence" else parts
