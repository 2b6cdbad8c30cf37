"""The Ask pipeline without the mesh: the same encoder, chunker, prompt builder, Qdrant engine and
extractive generator, called in one process (no gRPC, no Triton) — the floor the mesh is compared with."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bench.limits import embed_all, encoder
from ragmesh_answering import extractive
from ragmesh_kit.domain import Chunk, ChunkWithVector, Citation, ScoredChunk
from ragmesh_kit.tokens import TokenCounter
from ragmesh_models import rescoring
from services.generator.app.citations import extract_citations
from services.generator.app.prompt import PromptBuilder
from services.indexer.app.chunker import Chunker, ChunkingPolicy
from services.retriever.adapters.qdrant_edge_store import QdrantEdgeStore
from services.retriever.app.chunk_index import diversify

TENANT = "bench"


def chunk_documents(documents: dict[str, str]) -> list[Chunk]:
    chunker = Chunker(TokenCounter(), ChunkingPolicy(200, 40))
    chunks: list[Chunk] = []
    for document_id, text in documents.items():
        for index, piece in enumerate(chunker.split(text)):
            chunks.append(Chunk(f"{document_id}#{index}", document_id, index, 1, document_id, piece, {}))
    return chunks


class InProcessPipeline:
    def __init__(self, models_dir: Path, store: QdrantEdgeStore, max_context_tokens: int = 1500) -> None:
        self.encoder = encoder(models_dir)
        self.store = store
        self.prompts = PromptBuilder(TokenCounter())
        self.max_context_tokens = max_context_tokens

    @classmethod
    async def build(cls, models_dir: Path, documents: dict[str, str], data_dir: Path) -> InProcessPipeline:
        store = await QdrantEdgeStore.open(str(data_dir), 384, hnsw_ef=128)
        pipeline = cls(models_dir, store)
        chunks = chunk_documents(documents)
        vectors = embed_all(pipeline.encoder, [chunk.text for chunk in chunks])
        await store.upsert(TENANT, [ChunkWithVector(c, v.tolist()) for c, v in zip(chunks, vectors, strict=True)])
        return pipeline

    async def ask(self, question: str, top_k: int = 5) -> str:
        vector = self.encoder.embed([question])[0]
        # Dense, as the gateway retrieves for Ask by default (GATEWAY_ASK_RETRIEVAL_MODE).
        found: Sequence[ScoredChunk] = await self.store.search(TENANT, vector.tolist(), top_k, [], 0.0)
        prompt = self.prompts.build(question, found, self.max_context_tokens)
        return extractive.answer(prompt.text)


def exact_top_k(matrix: NDArray[Any], query: NDArray[Any], k: int) -> NDArray[Any]:
    scores = matrix @ query
    top = np.argpartition(-scores, k)[:k]
    return top[np.argsort(-scores[top])]


class GoldenPipeline(InProcessPipeline):
    """The in-process pipeline with what the gateway adds on the way to the generator (document
    titles, at most 3 chunks per document, the 0.15 score floor), for the golden set's figures."""

    MIN_SCORE = 0.15
    PER_DOCUMENT = 3
    # Reranking (the Triton model "rerank"'s defaults and the gateway's GATEWAY_RERANK_CANDIDATES).
    RERANK_CANDIDATES = 10
    RANK_WEIGHT = 0.1

    @classmethod
    async def build_titled(
        cls, models_dir: Path, documents: dict[str, tuple[str, str]], data_dir: Path
    ) -> GoldenPipeline:
        store = await QdrantEdgeStore.open(str(data_dir), 384, hnsw_ef=128)
        pipeline = cls(models_dir, store)
        chunker = Chunker(TokenCounter(), ChunkingPolicy(200, 40))
        chunks = [
            Chunk(f"{document_id}#{index}", document_id, index, 1, title, piece, {})
            for document_id, (title, text) in documents.items()
            for index, piece in enumerate(chunker.split(text))
        ]
        vectors = embed_all(pipeline.encoder, [chunk.text for chunk in chunks])
        await store.upsert(TENANT, [ChunkWithVector(c, v.tolist()) for c, v in zip(chunks, vectors, strict=True)])
        return pipeline

    async def dense(self, question: str, top_k: int) -> list[ScoredChunk]:
        vector = self.encoder.embed([question])[0]
        found = await self.store.search(TENANT, vector.tolist(), 50, [], self.MIN_SCORE)
        return diversify(found, top_k, self.PER_DOCUMENT)

    async def hybrid(self, question: str, top_k: int) -> list[ScoredChunk]:
        """Dense and term prefetches fused, as the retriever searches for Ask by default."""
        vector = self.encoder.embed([question])[0]
        found = await self.store.search(TENANT, vector.tolist(), 50, [], self.MIN_SCORE, question)
        return diversify(found, top_k, self.PER_DOCUMENT)

    def rerank(self, question: str, found: Sequence[ScoredChunk], top_k: int) -> list[ScoredChunk]:
        """The candidates reordered by sentence-level rescoring, the best ``top_k`` kept."""
        texts = [item.chunk.text for item in found]
        titles = [item.chunk.title for item in found]
        scores = rescoring.rescore(self.encoder.embed, question, texts, titles, self.RANK_WEIGHT)
        order = sorted(range(len(found)), key=lambda i: -float(scores[i]))
        return [found[i] for i in order[:top_k]]

    async def ask_golden(
        self, question: str, mode: str = "dense", top_k: int = 5
    ) -> tuple[str, list[Citation], list[ScoredChunk]]:
        """The answer, its citations and the retrieved chunks (best first). A mode ending in
        "+rerank" retrieves RERANK_CANDIDATES chunks and keeps the best top_k after rescoring."""
        base, _, rerank = mode.partition("+")
        retrieve = {"dense": self.dense, "hybrid": self.hybrid}.get(base)
        if retrieve is None or rerank not in ("", "rerank"):
            raise ValueError(f"unknown retrieval mode {mode!r}")
        if rerank:
            found = self.rerank(question, await retrieve(question, max(top_k, self.RERANK_CANDIDATES)), top_k)
        else:
            found = await retrieve(question, top_k)
        prompt = self.prompts.build(question, found, self.max_context_tokens)
        answer = prompt.restore(extractive.answer(prompt.text)).strip()
        return answer, extract_citations(answer, prompt.sources), list(found)
