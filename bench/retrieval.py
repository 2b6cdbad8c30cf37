"""Retrieval on the Qdrant engine (qdrant-edge, as the retriever runs it): latency of top-10 at 10k
and 100k chunks, with and without the tenant filter, and recall@10 against exact search."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bench.pipeline import exact_top_k
from ragmesh_kit.domain import Chunk, ChunkWithVector
from services.retriever.adapters.qdrant_edge_store import QdrantEdgeStore


def grow(real: NDArray[Any], total: int, seed: int = 7) -> NDArray[Any]:
    """Real embeddings, plus (beyond them) normalised mixtures of two real ones with a little noise:
    points that stay on the model's manifold, unlike uniform random vectors."""
    if total <= len(real):
        return real[:total]
    rng = np.random.default_rng(seed)
    extra = total - len(real)
    a, b = rng.integers(0, len(real), extra), rng.integers(0, len(real), extra)
    weight = rng.uniform(0.2, 0.8, (extra, 1)).astype(np.float32)
    mixed = weight * real[a] + (1 - weight) * real[b] + rng.normal(0, 0.02, (extra, real.shape[1])).astype(np.float32)
    mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
    return np.concatenate([real, mixed.astype(np.float32)])


async def measure(vectors: NDArray[Any], queries: NDArray[Any], data_dir: Path, tenants: int = 10) -> dict[str, float]:
    store = await QdrantEdgeStore.open(str(data_dir), vectors.shape[1], hnsw_ef=128)
    records = [
        ChunkWithVector(Chunk(f"c{i}", f"d{i // 8}", i % 8, 1, "", "", {}), vector.tolist())
        for i, vector in enumerate(vectors)
    ]
    started = time.perf_counter()
    for tenant in range(tenants):
        await store.upsert(f"t{tenant}", records[tenant::tenants])
    upsert_seconds = time.perf_counter() - started
    started = time.perf_counter()
    await store.optimize()
    optimize_seconds = time.perf_counter() - started
    tenant_of = np.arange(len(vectors)) % tenants

    async def run(filtered: bool) -> tuple[list[float], float]:
        latencies: list[float] = []
        hits = 0
        for index, query in enumerate(queries):
            tenant = index % tenants
            begin = time.perf_counter()
            found = await store.search(f"t{tenant}", query.tolist(), 10, [], 0.0)
            latencies.append((time.perf_counter() - begin) * 1000)
            if filtered:
                subset = np.flatnonzero(tenant_of == tenant)
                exact = {f"c{subset[i]}" for i in exact_top_k(vectors[subset], query, 10)}
                hits += len(exact & {item.chunk.chunk_id for item in found})
        return latencies, hits / (10 * len(queries))

    tenant_latencies, recall = await run(True)
    # Without the tenant filter: one tenant holding everything.
    whole = await QdrantEdgeStore.open(str(data_dir) + "-whole", vectors.shape[1], hnsw_ef=128)
    await whole.upsert("all", records)
    await whole.optimize()
    whole_latencies: list[float] = []
    whole_hits = 0
    for query in queries:
        begin = time.perf_counter()
        found = await whole.search("all", query.tolist(), 10, [], 0.0)
        whole_latencies.append((time.perf_counter() - begin) * 1000)
        exact = {f"c{i}" for i in exact_top_k(vectors, query, 10)}
        whole_hits += len(exact & {item.chunk.chunk_id for item in found})
    await store.close()
    await whole.close()
    return {
        "points": len(vectors),
        "upsert_points_per_s": round(len(vectors) / upsert_seconds, 1),
        "optimize_s": round(optimize_seconds, 2),
        "tenant_filtered_p50_ms": round(float(np.percentile(tenant_latencies, 50)), 3),
        "tenant_filtered_p99_ms": round(float(np.percentile(tenant_latencies, 99)), 3),
        "tenant_filtered_recall_at_10": round(recall, 4),
        "unfiltered_p50_ms": round(float(np.percentile(whole_latencies, 50)), 3),
        "unfiltered_p99_ms": round(float(np.percentile(whole_latencies, 99)), 3),
        "unfiltered_recall_at_10": round(whole_hits / (10 * len(queries)), 4),
    }


def run_retrieval(vectors: NDArray[Any], queries: NDArray[Any], data_dir: Path) -> dict[str, float]:
    return asyncio.run(measure(vectors, queries, data_dir))
