"""Reranking policy: retrieval fetches more candidates than the answer uses, the reranker scores
them, and the best ``top_k`` in the reranker's order go to the generator (retrieval scores are kept:
the generator and the citations report them)."""

from __future__ import annotations

from collections.abc import Sequence

from ragmesh_kit.domain import ScoredChunk
from ragmesh_kit.errors import DependencyFailed
from services.gateway.app.ports import Reranker


def candidate_count(top_k: int, candidates: int) -> int:
    """How many chunks to retrieve for a reranked answer of ``top_k`` chunks."""
    return max(top_k, candidates)


def best_first(candidates: Sequence[ScoredChunk], scores: Sequence[float], top_k: int) -> list[ScoredChunk]:
    """The ``top_k`` candidates with the highest scores; ties keep the retrieval order."""
    if len(scores) != len(candidates):
        raise DependencyFailed(f"reranker: {len(scores)} scores for {len(candidates)} candidates")
    order = sorted(range(len(candidates)), key=lambda i: -scores[i])
    return [candidates[i] for i in order[:top_k]]


async def reranked(
    reranker: Reranker, question: str, candidates: Sequence[ScoredChunk], top_k: int
) -> list[ScoredChunk]:
    if not candidates:
        return []
    return best_first(candidates, await reranker.rerank(question, candidates), top_k)
