"""`make bench`: every figure of docs/benchmarks in one run on this machine (ratios, not absolutes,
are what compare). Writes results.json, README.md (table with targets) and PNG plots."""

from __future__ import annotations

import asyncio
import itertools
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench import formats, ghz, golden, ingestion, llm, llm_golden, report, vegeta
from bench.baseline import BASELINE_COMMIT, BaselineUnavailable, baseline_gateway, interleaved_asks
from bench.corpus import sentences, topic_documents
from bench.cpu import CpuMeter
from bench.instance import bench_settings, naive_port
from bench.limits import embed_all, encoder, quantization, sentences_per_second
from bench.load import run_load
from bench.mesh import ask_load, bench_gateway, bench_gateway_env, embedder_load
from bench.pipeline import InProcessPipeline, chunk_documents
from bench.retrieval import grow, run_retrieval
from ragmesh_devstack import stack
from ragmesh_devstack.settings import StackSettings

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs/benchmarks"
LLM_PORT_SHIFT = 7000


def _env(settings: StackSettings) -> dict[str, str]:
    return stack.dev_env(settings)


def questions_from(texts: list[str], count: int) -> list[str]:
    rng = np.random.default_rng(3)
    picked = rng.choice(len(texts), count, replace=False)
    return [" ".join(texts[i].split()[:12]).rstrip(".,;:") + "?" for i in picked]


async def naive_load(questions: list[str], concurrency: int, calls: int) -> Any:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{naive_port()}", timeout=60) as client:

        async def call(index: int) -> None:
            reply = await client.post("/ask", json={"question": questions[index % len(questions)]})
            reply.raise_for_status()

        return await run_load(call, concurrency, calls, warmup_calls=4)


def start_naive(models: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, "-m", "bench.naive_service", str(models), str(naive_port())], cwd=ROOT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{naive_port()}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError("the naive baseline did not start")


def _ask_vs_baseline(
    settings: StackSettings, address: str, env: dict[str, str], questions: list[str], calls: int
) -> dict[str, Any]:
    try:
        with baseline_gateway(settings, bench_gateway_env(settings)) as baseline_address:
            figures = asyncio.run(
                interleaved_asks(
                    {"today": address, "baseline": baseline_address}, env["RAGMESH_API_KEY"], questions, calls
                )
            )
    except BaselineUnavailable as error:
        return {"skipped": str(error)}
    result: dict[str, Any] = dict(figures)
    result["baseline_commit"] = BASELINE_COMMIT
    result["p50_delta_ms"] = round(figures["today"]["p50_ms"] - figures["baseline"]["p50_ms"], 2)
    return result


def main() -> int:
    # --quick: a smoke run with small counts (checks the harness; its figures mean little).
    scale = 0.1 if "--quick" in sys.argv else 1.0
    # Its own stack instance (.run/bench, ports +5000 or RAGMESH_BENCH_PORT_SHIFT), fresh data, and
    # Triton's OpenTelemetry tracing off (see bench.instance); the services trace every request, as
    # `make up` runs them.
    settings = bench_settings()
    stack.down(settings)
    shutil.rmtree(settings.run_dir / "data", ignore_errors=True)
    stack.up(settings)
    try:
        results = _run(settings, scale)
    finally:
        stack.down(settings)
    # The llm section runs with the main stack down: its own Triton and generator (.run/bench-llm,
    # ports +7000), the same engine in-process, and the naive service, sharing the cores with nothing.
    print("bench: the llm generator (tokens/s, time to first token)", flush=True)
    results["llm"] = llm.measure(LLM_PORT_SHIFT, rounds=1 if scale < 1 else 2, repeats=1 if scale < 1 else 2)
    print("bench: the llm generator on the golden set", flush=True)
    results["llm_golden"] = llm_golden.run(settings.deps_dir / "models", [llm.gguf()], llm_golden.LlmSettings())
    results["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    report.write(results, OUT)
    print((OUT / "README.md").read_text())
    return 0


def _run(settings: StackSettings, scale: float) -> dict[str, Any]:
    def n(calls: int) -> int:
        return max(8, int(calls * scale))

    env = _env(settings)
    models = settings.deps_dir / "models"
    texts = sentences()
    results: dict[str, Any] = {
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    questions = questions_from(texts, 200)
    embedder_addr = f"127.0.0.1:{settings.embedder_port}"

    print("bench: ingestion through Kafka", flush=True)
    meter = CpuMeter.for_stack(settings.run_dir)
    with meter.during():
        results["ingestion"] = ingestion.run(settings, env, copies=1 if scale < 1 else 4)
    results["ingestion_cpu_ms_per_chunk"] = meter.per_call_ms(results["ingestion"]["chunks_indexed"])
    print("bench: ingestion by format (text, markdown, HTML, PDF)", flush=True)
    results["formats"] = formats.run(settings, env)
    print("bench: embedding limit and quantization", flush=True)
    int8 = encoder(models)
    # The limit at the lengths each path embeds: sentences (questions, the embedder load) and the
    # indexer's chunks (up to 200 tokens: several times the work per text).
    chunk_texts = [chunk.text for chunk in chunk_documents(topic_documents())]
    results["limit"] = {
        "in_process_bs32_sentences_per_s": round(sentences_per_second(int8, texts), 1),
        "in_process_bs32_chunks_per_s": round(sentences_per_second(int8, chunk_texts), 1),
    }
    results["quantization"] = quantization(models, texts)
    print("bench: embedder over gRPC", flush=True)
    results["embedder"] = [
        asyncio.run(embedder_load(embedder_addr, texts, c, n(calls))).as_dict()
        for c, calls in ((1, 150), (8, 400), (32, 800), (64, 800))
    ]
    print("bench: Ask through the mesh", flush=True)
    results["corpus_documents"] = ingestion.load_corpus(env)
    with bench_gateway(settings) as bench_address:
        results["ask"] = [
            asyncio.run(ask_load(bench_address, env["RAGMESH_API_KEY"], questions, c, n(calls))).as_dict()
            for c, calls in ((1, 100), (8, 200))
        ]
        # Where the two cores go at c=32: CPU milliseconds per Ask for each process of the stack.
        meter = CpuMeter.for_stack(settings.run_dir)
        with meter.during():
            busy = asyncio.run(ask_load(bench_address, env["RAGMESH_API_KEY"], questions, 32, n(300)))
        results["ask"].append(busy.as_dict())
        results["ask_cpu_ms_per_call"] = meter.per_call_ms(busy.calls)
        print("bench: Ask before and after the answer-quality work", flush=True)
        results["ask_vs_baseline"] = _ask_vs_baseline(settings, bench_address, env, questions, n(200))
        # The same load from ghz (unary Ask): figures that do not rest on our own client.
        meter = CpuMeter.for_stack(settings.run_dir)
        with meter.during():
            results["ask_ghz"] = ghz.ask(
                settings.deps_dir / "ghz",
                settings.run_dir,
                bench_address,
                env["RAGMESH_API_KEY"],
                questions,
                32,
                n(600),
            )
        results["ask_ghz_cpu_ms_per_call"] = meter.per_call_ms(results["ask_ghz"]["calls"])
    print("bench: the same pipeline in-process", flush=True)
    with tempfile.TemporaryDirectory() as data:

        async def in_process() -> Any:
            pipeline = await InProcessPipeline.build(models, topic_documents(), Path(data))

            async def call(index: int) -> None:
                await pipeline.ask(questions[index % len(questions)])

            return await run_load(call, 1, n(100), warmup_calls=4)

        results["ask_in_process"] = asyncio.run(in_process()).as_dict()
    print("bench: answer quality on the golden set", flush=True)
    results["golden"] = golden.run_modes(models)
    print("bench: naive baseline", flush=True)
    naive = start_naive(models)
    try:
        results["naive"] = [
            asyncio.run(naive_load(questions, c, n(calls))).as_dict() for c, calls in ((1, 100), (8, 200))
        ]
        meter = CpuMeter({"naive service": naive.pid})
        with meter.during():
            busy = asyncio.run(naive_load(questions, 32, n(300)))
        results["naive"].append(busy.as_dict())
        results["naive_cpu_ms_per_call"] = meter.per_call_ms(busy.calls)
        # The same load from vegeta, the Go counterpart of ghz: throughputs from clients of one kind.
        meter = CpuMeter({"naive service": naive.pid})
        with meter.during():
            results["naive_vegeta"] = vegeta.ask(
                settings.deps_dir / "vegeta",
                settings.run_dir,
                f"http://127.0.0.1:{naive_port()}/ask",
                questions,
                32,
                max(2.0, n(600) / 150),
            )
        results["naive_vegeta_cpu_ms_per_call"] = meter.per_call_ms(results["naive_vegeta"]["calls"])
    finally:
        naive.terminate()
        naive.wait(timeout=30)
    print("bench: retrieval at 10k and 100k chunks", flush=True)
    real = embed_all(
        int8,
        texts[:10_000] + [f"{a} {b}" for a, b in itertools.pairwise(texts)][: max(0, 10_000 - len(texts))],
    )
    queries = embed_all(int8, questions[:100])
    with tempfile.TemporaryDirectory() as data:
        results["retrieval"] = [
            run_retrieval(grow(real, size), queries, Path(data) / f"r{size}")
            for size in (int(10_000 * scale), int(100_000 * scale))
        ]
    return results


if __name__ == "__main__":
    sys.exit(main())
