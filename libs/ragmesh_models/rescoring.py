"""Sentence-level rescoring of retrieved chunks with the sentence encoder (no Triton imports), shared by
the Triton model "rerank" and the in-process golden set so both run exactly the same code.

A chunk embedded whole is an average of its sentences: one sentence that answers the question is diluted
by its neighbours. Rescoring embeds each sentence (with the chunk's title as context) and scores the chunk
by its best sentence's cosine with the question, blended with the chunk's place in the retrieval order
(the candidates arrive best first), so retrieval's own evidence (term matches in hybrid) is not thrown away.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

# Sentence ends, and line breaks: list items, option lines and headings are units of their own.
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(`])|\n+")
# A sentence shorter than this (after stripping) is markup or a fragment, not evidence.
MIN_SENTENCE_CHARS = 12
# Sentences per chunk kept for scoring (the first ones) and characters per sentence: bound the cost of
# a pathological chunk (a long code line would pad every sentence of its batch).
MAX_SENTENCES = 12
MAX_SENTENCE_CHARS = 200
# Texts per encoder call; calls take texts of similar length so little of each batch is padding.
BATCH = 32


def sentences(text: str) -> list[str]:
    """The chunk's sentences and lines worth scoring; the whole text when none is long enough."""
    parts = [p.strip() for p in _SPLIT.split(text)]
    kept = [p[:MAX_SENTENCE_CHARS] for p in parts if len(p) >= MIN_SENTENCE_CHARS and any(c.isalnum() for c in p)]
    return kept[:MAX_SENTENCES] or [text.strip()[:MAX_SENTENCE_CHARS] or text]


def embed_by_length(embed: Callable[[list[str]], NDArray[Any]], texts: list[str]) -> NDArray[Any]:
    """``embed`` over ``texts`` in batches of similar length, rows back in the order of ``texts``."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    rows: NDArray[Any] | None = None
    for start in range(0, len(order), BATCH):
        part = order[start : start + BATCH]
        vectors = embed([texts[i] for i in part])
        if rows is None:
            rows = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
        rows[part] = vectors
    assert rows is not None
    return rows


def blend(best_cosines: Sequence[float], rank_weight: float) -> NDArray[Any]:
    """Scores for candidates in retrieval order: the best sentence cosine plus ``rank_weight`` times a
    prior that falls from 1 (first candidate) to 0 (last)."""
    count = len(best_cosines)
    if count == 0:
        return np.zeros(0, dtype=np.float32)
    prior = 1.0 - np.arange(count, dtype=np.float32) / max(count - 1, 1)
    return np.asarray(best_cosines, dtype=np.float32) + np.float32(rank_weight) * prior


def rescore(
    embed: Callable[[list[str]], NDArray[Any]],
    question: str,
    chunks: Sequence[str],
    titles: Sequence[str] = (),
    rank_weight: float = 0.1,
) -> NDArray[Any]:
    """One score per chunk (higher is better); ``chunks`` in retrieval order, best first. ``embed``
    returns unit-length rows, so a dot product is the cosine."""
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    texts = [question]
    owners: list[int] = []
    for index, chunk in enumerate(chunks):
        title = titles[index] if index < len(titles) else ""
        for sentence in sentences(chunk):
            texts.append(f"{title}: {sentence}" if title else sentence)
            owners.append(index)
    vectors = embed_by_length(embed, texts)
    cosines = vectors[1:] @ vectors[0]
    best = np.full(len(chunks), -1.0, dtype=np.float32)
    np.maximum.at(best, np.asarray(owners), cosines.astype(np.float32))
    return blend(best.tolist(), rank_weight)
