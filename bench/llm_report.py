"""The llm section of docs/benchmarks: targets, tokens/s and TTFT by way and concurrency, and the
golden set's fact-in-answer of the llm path beside the extractive one."""

from __future__ import annotations

from typing import Any

from bench import llm_golden


def _row(results: dict[str, Any], way: str, concurrency: int) -> dict[str, Any]:
    return next(r for r in results["llm"]["runs"] if r["way"] == way and r["concurrency"] == concurrency)


def targets(results: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(figure, measured, target, met) for the llm issue's throughput and latency targets."""
    if "llm" not in results:
        return []
    mesh, inproc, naive = (_row(results, way, 8)["tokens_per_s"] for way in ("mesh", "in_process", "naive"))
    ttft = _row(results, "mesh", 1)["ttft_p50_ms"]
    return [
        (
            "llm: 8 streams through the mesh vs in-process (tokens/s)",
            f"{mesh:.1f}/{inproc:.1f} = {mesh / inproc:.0%}",
            ">= 85%",
            mesh / inproc >= 0.85,
        ),
        (
            "llm: 8 streams through the mesh vs naive one-at-a-time",
            f"{mesh:.1f}/{naive:.1f} = {mesh / naive:.2f}x",
            ">= 1.4x",
            mesh / naive >= 1.4,
        ),
        ("llm: time to first token p50 at c=1 (mesh)", f"{ttft:.0f} ms", "<= 1000 ms", ttft <= 1000),
    ]


def markdown(results: dict[str, Any]) -> list[str]:
    if "llm" not in results:
        return []
    llm = results["llm"]
    columns = ["way", "concurrency", "streams", "tokens_per_s", "tokens_per_cpu_s", "ttft_p50_ms", "ttft_p95_ms"]
    lines = [
        "## The llm generator (llama.cpp on Triton, continuous batching)",
        "",
        f"{llm['model']}, {llm['tokens_per_stream']} tokens per stream (greedy, every stream to the end), "
        f"prompts of {llm['prompt_tokens_mean']} tokens on average (the golden set's plain questions). "
        "mesh: generator service -> Triton -> llm; in_process: the same engine in the bench's process "
        "(the limit); naive: FastAPI + llama-cpp-python, one request at a time. Best of "
        f"{llm['repeats']} interleaved repeats; load average {llm['load_average_1m']} before, "
        f"{llm['load_average_1m_after']} after.",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
    ]
    lines += ["| " + " | ".join(str(row[c]) for c in columns) + " |" for row in llm["runs"]]
    lines.append("")
    if "llm_golden" in results:
        lines += llm_golden.markdown(results["llm_golden"])
    return lines
