"""docs/benchmarks: the markdown table with each target beside its figure, and PNG plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bench import golden, llm_report


def _by_concurrency(rows: list[dict[str, Any]], concurrency: int) -> dict[str, Any]:
    return next(row for row in rows if row["concurrency"] == concurrency)


def _formats(results: dict[str, Any]) -> list[str]:
    """Documents as users hold them: the same topics as text, markdown, HTML and PDF, to searchable."""
    formats = results.get("formats")
    if not formats:
        return []
    rows = [{"content type": media, **row} for media, row in formats["through_the_stack"].items()]
    parsed = [{"content type": media, **row} for media, row in formats["parse_in_process"].items()]
    columns = ["content type", "documents", "chunks", "seconds_to_searchable", "documents_per_s", "chunks_per_s"]
    return [
        "## Ingestion by format (gateway -> Kafka -> parse, chunk, embed, upsert)",
        "",
        "The same reference topics as plain text, markdown, HTML (with navigation) and PDF (45 lines a page).",
        "",
        _table(rows, [*columns, "pages", "pages_per_s"]),
        "Parse and chunk alone, in process (one core):",
        "",
        _table(parsed, ["content type", "documents_per_s", "pages_per_s", "chunks"]),
    ]


def targets(results: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(figure, measured, target, met) for every target of the benchmark issue."""
    limit = results["limit"]["in_process_bs32_sentences_per_s"]
    embed32 = _by_concurrency(results["embedder"], 32)["throughput"]
    mesh_p50 = _by_concurrency(results["ask"], 1)["p50_ms"]
    floor_p50 = results["ask_in_process"]["p50_ms"]
    ask32 = _by_concurrency(results["ask"], 32)["throughput"]
    naive32 = _by_concurrency(results["naive"], 32)["throughput"]
    chunks_per_s = results["ingestion"]["chunks_per_s"]
    chunk_limit = results["limit"]["in_process_bs32_chunks_per_s"]
    quant = results["quantization"]
    big = results["retrieval"][-1]
    rows = [
        (
            "embedder at 32 callers vs in-process bs32 limit",
            f"{embed32:.0f}/{limit:.0f} = {embed32 / limit:.0%}",
            ">= 90%",
            embed32 / limit >= 0.9,
        ),
        (
            "Ask mesh overhead (p50 e2e - p50 in-process)",
            f"{mesh_p50:.1f} - {floor_p50:.1f} = {mesh_p50 - floor_p50:.1f} ms",
            "<= 5 ms",
            mesh_p50 - floor_p50 <= 5,
        ),
        (
            "Ask throughput at c=32 vs naive baseline",
            f"{ask32:.1f}/{naive32:.1f} = {ask32 / naive32:.2f}x",
            ">= 3x",
            ask32 / naive32 >= 3,
        ),
        *_cpu_targets(results),
        (
            "ingestion chunks/s vs embedder limit on the same chunks",
            f"{chunks_per_s:.0f}/{chunk_limit:.0f} = {chunks_per_s / chunk_limit:.0%}",
            ">= 80%",
            chunks_per_s / chunk_limit >= 0.8,
        ),
        ("int8 vs fp32 speed", f"{quant['speed_ratio']:.2f}x", ">= 1.8x", quant["speed_ratio"] >= 1.8),
        (
            "int8 vs fp32 mean cosine",
            f"{quant['cosine_mean']:.4f} (min {quant['cosine_min']:.4f})",
            ">= 0.99",
            quant["cosine_mean"] >= 0.99,
        ),
        (
            f"retrieval recall@10 at {big['points']:,} chunks (tenant-filtered)",
            f"{big['tenant_filtered_recall_at_10']:.3f}",
            ">= 0.95",
            big["tenant_filtered_recall_at_10"] >= 0.95,
        ),
        (
            f"retrieval p50 at {big['points']:,} chunks (unfiltered)",
            f"{big['unfiltered_p50_ms']:.2f} ms",
            "<= 5 ms",
            big["unfiltered_p50_ms"] <= 5,
        ),
    ]
    before = results.get("ask_vs_baseline", {})
    if "p50_delta_ms" in before:
        rows.append(
            (
                "Ask p50 at c=1 vs before the answer-quality work (same run)",
                f"{before['today']['p50_ms']:.1f} - {before['baseline']['p50_ms']:.1f}"
                f" = {before['p50_delta_ms']:+.1f} ms",
                "<= +2 ms",
                before["p50_delta_ms"] <= 2,
            )
        )
    return rows


def _baseline_section(results: dict[str, Any]) -> list[str]:
    before = results.get("ask_vs_baseline")
    if not before:
        return []
    if "skipped" in before:
        return ["## Ask before and after the answer-quality work", "", f"Left out: {before['skipped']}", ""]
    return [
        "## Ask before and after the answer-quality work (c=1, alternating call by call)",
        "",
        f"Baseline: the extractive model of commit {before['baseline_commit'][:12]} beside today's, each",
        "with its own generator service and gateway, sharing embedder, retriever and Triton.",
        "",
        "| path | calls | p50 ms | p95 ms |",
        "|---|---|---|---|",
        *(
            f"| {name} | {before[name]['calls']} | {before[name]['p50_ms']} | {before[name]['p95_ms']} |"
            for name in ("today", "baseline")
        ),
        "",
    ]


def _cpu_targets(results: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """CPU per Ask (every process but the load generator) and ghz's throughput, each against the
    naive service: what the mesh costs for the same answers."""
    rows: list[tuple[str, str, str, bool]] = []
    naive32 = _by_concurrency(results["naive"], 32)["throughput"]
    mesh = results.get("ask_cpu_ms_per_call")
    naive = results.get("naive_cpu_ms_per_call")
    if mesh and naive:
        ours = sum(v for k, v in mesh.items() if k != "load generator")
        theirs = sum(v for k, v in naive.items() if k != "load generator")
        rows.append(
            (
                "CPU per Ask at c=32 vs naive (load generator excluded)",
                f"{ours:.1f}/{theirs:.1f} ms = {ours / theirs:.2f}x",
                "<= 1.0x",
                ours / theirs <= 1.0,
            )
        )
    if "ask_ghz" in results:
        rps = results["ask_ghz"]["throughput"]
        # Go clients on both sides when the naive service was driven by vegeta too: our Python
        # HTTP client costs the naive service's shared cores more than our gRPC client the mesh's.
        go = results.get("naive_vegeta")
        theirs = go["throughput"] if go else naive32
        rows.append(
            (
                "Ask throughput at c=32 from ghz vs naive" + (" from vegeta (Go clients both)" if go else ""),
                f"{rps:.1f}/{theirs:.1f} = {rps / theirs:.2f}x",
                ">= 1.0x",
                rps / theirs >= 1.0,
            )
        )
    return rows


def _go_client_section(results: dict[str, Any], key: str, title: str, cpu_label: str) -> list[str]:
    """A Go load generator's run (ghz on the mesh, vegeta on the naive service) and the CPU per
    call it cost each process; nothing when the run has none."""
    if key not in results:
        return []
    cpu = results.get(f"{key}_cpu_ms_per_call", {})
    return [
        title,
        "",
        _table([results[key]], ["concurrency", "calls", "codes", "throughput", "p50_ms", "p95_ms", "p99_ms"]),
        f"{cpu_label}: " + ", ".join(f"{k} {v}" for k, v in cpu.items()) + ".",
        "",
    ]


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    return head + "".join("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |\n" for row in rows)


def _cpu_table(results: dict[str, Any]) -> str:
    mesh: dict[str, float] = results.get("ask_cpu_ms_per_call", {})
    naive: dict[str, float] = results.get("naive_cpu_ms_per_call", {})
    rows = [{"process": name, "mesh": value, "naive": ""} for name, value in mesh.items() if name != "load generator"]
    rows += [{"process": name, "mesh": "", "naive": value} for name, value in naive.items() if name != "load generator"]
    rows.append(
        {"process": "load generator", "mesh": mesh.get("load generator", ""), "naive": naive.get("load generator", "")}
    )
    rows.append({"process": "**total**", "mesh": round(sum(mesh.values()), 2), "naive": round(sum(naive.values()), 2)})
    return _table(rows, ["process", "mesh", "naive"])


def write(results: dict[str, Any], out: Path) -> None:
    lines = [
        "# ragmesh benchmarks",
        "",
        f"One run of `make bench` on this machine ({results['machine']['cpus']} cores), "
        f"{results['started']} to {results['finished']}. Raw numbers: `results.json`.",
        "",
        "Where the CPU of a question goes, what was cut and the tools to look (`make profile` flame graphs in",
        "`profiles/`, `bench.ab`, `bench.hop`): [cpu-per-ask.md](cpu-per-ask.md).",
        "",
        "## Targets",
        "",
        "| figure | measured | target | met |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {name} | {value} | {target} | {'yes' if met else '**no**'} |"
        for name, value, target, met in targets(results) + llm_report.targets(results)
    ]
    limit = results["limit"]["in_process_bs32_sentences_per_s"]
    load_cols = ["concurrency", "calls", "errors", "throughput", "p50_ms", "p95_ms", "p99_ms", "ttft_p50_ms"]
    lines += [
        "",
        f"Embedding limit in-process (batch 32, 2 threads): {limit} sentences/s; "
        f"{results['limit']['in_process_bs32_chunks_per_s']} chunks/s on the indexer's chunks",
        "",
        "## Embedder over gRPC (single-text callers)",
        "",
        _table(results["embedder"], load_cols),
        "## Ask through the mesh (AskStream, caches bypassed)",
        "",
        _table(results["ask"], load_cols),
        *_go_client_section(
            results,
            "ask_ghz",
            "## Ask from ghz (unary Ask, caches bypassed; a Go client beside ours)",
            "CPU ms per Ask under ghz, by process",
        ),
        "## Ask pipeline in-process (no gRPC, no Triton)",
        "",
        _table([results["ask_in_process"]], load_cols),
        *_baseline_section(results),
        *(golden.markdown(results["golden"]) if "golden" in results else []),
        *llm_report.markdown(results),
        "## Naive baseline (FastAPI, model per request, brute-force search)",
        "",
        _table(results["naive"], load_cols),
        *_go_client_section(
            results,
            "naive_vegeta",
            "From vegeta (Go HTTP client, the counterpart of ghz), c=32:",
            "CPU ms per call under vegeta",
        ),
        "## CPU per Ask at 32 callers (milliseconds of CPU per request, by process)",
        "",
        "On 2 cores, throughput is at most 2000 / (CPU ms per request). The load generator is the",
        "benchmark's own process (gRPC client for the mesh, HTTP client for the naive service).",
        "",
        _cpu_table(results),
        "## Ingestion through Kafka",
        "",
        "CPU milliseconds per chunk indexed, by process: "
        + ", ".join(f"{name} {value}" for name, value in results.get("ingestion_cpu_ms_per_chunk", {}).items())
        + ".",
        "",
        _table(
            [{k: v for k, v in results["ingestion"].items() if k != "lag_over_time"}],
            ["documents", "chunks_indexed", "seconds_to_searchable", "documents_per_s", "chunks_per_s"],
        ),
        *_formats(results),
        "## Retrieval (qdrant-edge, top-10)",
        "",
        _table(results["retrieval"], list(results["retrieval"][0].keys())),
        "## Quantization",
        "",
        _table([results["quantization"]], list(results["quantization"].keys())),
        "![throughput](throughput.png)",
        "",
        "![ingestion lag](ingestion_lag.png)",
        "",
    ]
    (out / "README.md").write_text("\n".join(lines))

    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name, rows in (("embedder", results["embedder"]), ("ask (mesh)", results["ask"]), ("naive", results["naive"])):
        axes[0].plot([r["concurrency"] for r in rows], [r["throughput"] for r in rows], marker="o", label=name)
        axes[1].plot([r["concurrency"] for r in rows], [r["p50_ms"] for r in rows], marker="o", label=name)
    axes[0].axhline(
        results["limit"]["in_process_bs32_sentences_per_s"], linestyle="--", color="grey", label="embedding limit"
    )
    axes[0].set(xlabel="concurrent callers", ylabel="requests/s", title="Throughput", xscale="log")
    axes[1].set(xlabel="concurrent callers", ylabel="p50 ms", title="Latency", xscale="log", yscale="log")
    for axis in axes:
        axis.legend()
        axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(out / "throughput.png", dpi=110)
    plt.close(figure)
    series = results["ingestion"]["lag_over_time"]
    figure, axis = plt.subplots(figsize=(6, 3.5))
    axis.plot([t for t, _ in series], [lag for _, lag in series])
    axis.set(xlabel="seconds since first submit", ylabel="consumer lag (messages)", title="Ingestion: consumer lag")
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(out / "ingestion_lag.png", dpi=110)
    plt.close(figure)
