"""Sentence-level rescoring (libs/ragmesh_models/rescoring.py) and the gateway's rerank policy."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np
import pytest
from numpy.typing import NDArray

from ragmesh_kit.domain import Chunk, ScoredChunk
from ragmesh_kit.errors import DependencyFailed
from ragmesh_models import rescoring
from services.gateway.app.rerank import best_first, candidate_count, reranked

VOCABULARY = ("global", "statement", "names", "declare", "loop", "break", "with", "context", "manager", "the")


def bag_of_words(texts: list[str]) -> NDArray[np.float32]:
    """Unit-length word-count vectors: cosine is word overlap, so the expected order is plain to see."""
    rows = np.array(
        [[float(text.lower().count(word)) for word in VOCABULARY] + [0.01] for text in texts], dtype=np.float32
    )
    unit: NDArray[np.float32] = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return unit


def test_sentences_drop_markup_and_keep_lines() -> None:
    text = 'The "global" statement\n**********************\nIt declares names global. Then more text follows here.'
    assert rescoring.sentences(text) == [
        'The "global" statement',
        "It declares names global.",
        "Then more text follows here.",
    ]


def test_the_chunk_with_the_answering_sentence_wins_over_a_diluted_one() -> None:
    diluted = "The loop statement runs. Break ends the loop. The with statement uses a context manager."
    answering = "Unrelated words here first. The global statement declare names. Other unrelated words too."
    scores = rescoring.rescore(bag_of_words, "global statement declare names", [diluted, answering], rank_weight=0.0)
    assert scores[1] > scores[0]


def test_the_rank_prior_breaks_ties_and_keeps_retrieval_evidence() -> None:
    same = "The global statement declare names."
    scores = rescoring.rescore(bag_of_words, "global statement", [same, same, same], rank_weight=0.1)
    assert scores[0] > scores[1] > scores[2]
    assert rescoring.rescore(bag_of_words, "x", []).shape == (0,)


def test_titles_give_sentences_their_context() -> None:
    chunk = "It declares names for the whole block."
    untitled = rescoring.rescore(bag_of_words, "global statement", [chunk], rank_weight=0.0)
    titled = rescoring.rescore(bag_of_words, "global statement", [chunk], ["The global statement"], rank_weight=0.0)
    assert titled[0] > untitled[0]


def _scored(ids: Sequence[str]) -> list[ScoredChunk]:
    return [ScoredChunk(Chunk(i, i, 0, 1, i, f"text {i}", {}), 0.5) for i in ids]


class _FixedScores:
    def __init__(self, scores: list[float]) -> None:
        self.scores = scores

    async def rerank(self, question: str, candidates: Sequence[ScoredChunk]) -> list[float]:
        return self.scores


def test_rerank_policy_keeps_the_best_top_k_in_score_order() -> None:
    candidates = _scored(["a", "b", "c", "d"])
    kept = asyncio.run(reranked(_FixedScores([0.1, 0.9, 0.5, 0.9]), "q", candidates, 3))
    assert [item.chunk.chunk_id for item in kept] == ["b", "d", "c"]
    assert candidate_count(5, 15) == 15 and candidate_count(20, 15) == 20
    with pytest.raises(DependencyFailed):
        best_first(candidates, [0.1], 2)
