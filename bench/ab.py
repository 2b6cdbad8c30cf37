"""A/B of the query path on one running bench stack: the services an Ask crosses restarted from
two source trees (or with two environments), measured in alternation, so that a noisy shared
machine weighs on both sides alike. Reports per round and the median ratio B/A.

    python -m bench.ab --base HEAD~1            # A: the commit before, B: the working tree now
    python -m bench.ab --env-b OTEL_TRACES_SAMPLER=parentbased_traceidratio --env-b OTEL_TRACES_SAMPLER_ARG=0.1
    python -m bench.ab --naive ...              # the naive service measured in every round too

With ``--naive`` each round also loads the naive FastAPI service (same questions, same calls) while
the mesh idles, so B/naive and A/naive come from the same minutes of the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import statistics
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import ingestion
from bench.corpus import sentences
from bench.cpu import CpuMeter
from bench.instance import PATIENT, bench_settings, restart_query_path
from bench.mesh import ask_load
from bench.run import naive_load, questions_from, start_naive
from ragmesh_devstack import stack
from ragmesh_devstack.settings import StackSettings

ROOT = Path(__file__).resolve().parents[1]


def ensure_stack(settings: StackSettings) -> dict[str, str]:
    """The bench stack, started once and kept between A/B runs (``--down`` stops it), with the
    reference corpus indexed."""
    marker = settings.run_dir / "corpus-indexed"
    stack.up(settings)  # starts what is not running (`make bench` stops the instance at its end)
    if not marker.exists():
        ingestion.load_corpus(stack.dev_env(settings))
        marker.write_text("1")
    return stack.dev_env(settings)


def export_tree(revision: str, into: Path) -> Path:
    """The files of ``revision`` (git archive: no worktree bookkeeping in the repository)."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", revision], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def snapshot_worktree(into: Path) -> Path:
    """The working tree as it is now (tracked and untracked, ignored files left out), so that
    editing the checkout during a run does not change side B."""
    into.mkdir(parents=True, exist_ok=True)
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    present = b"\0".join(name for name in files.split(b"\0") if name and (ROOT / name.decode()).exists())
    packed = subprocess.run(
        ["tar", "--null", "-T", "-", "-c"], cwd=ROOT, input=present, check=True, capture_output=True
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=packed.stdout, check=True)
    return into


def _env_pairs(values: list[str]) -> dict[str, str]:
    return dict(value.split("=", 1) for value in values)


def _figures(
    load: Callable[[int, int], Any], meter: CpuMeter, calls: int, total: Callable[[dict[str, float]], float]
) -> dict[str, Any]:
    """c=1 p50, then c=32 throughput and CPU per call of what ``meter`` watches; ``load(c, calls)``
    runs one load and returns its LoadResult."""
    single = load(1, max(40, calls // 6))
    with meter.during():
        busy = load(32, calls)
    cpu = meter.per_call_ms(busy.calls)
    return {
        "c1_p50_ms": single.p50_ms,
        "c32_per_s": busy.throughput,
        "c32_p50_ms": busy.p50_ms,
        "errors": single.errors + busy.errors,
        "cpu_ms_per_ask": cpu,
        "cpu_ms_total": total(cpu),
    }


def measure(settings: StackSettings, env: dict[str, str], questions: list[str], calls: int) -> dict[str, Any]:
    address, key = env["GATEWAY_ADDR"], env["RAGMESH_API_KEY"]
    return _figures(
        lambda concurrency, n: asyncio.run(ask_load(address, key, questions, concurrency, n)),
        CpuMeter.for_stack(settings.run_dir),
        calls,
        lambda cpu: round(sum(v for k, v in cpu.items() if k != "load generator"), 2),
    )


def measure_naive(pid: int, questions: list[str], calls: int) -> dict[str, Any]:
    return _figures(
        lambda concurrency, n: asyncio.run(naive_load(questions, concurrency, n)),
        CpuMeter({"naive service": pid}),
        calls,
        lambda cpu: cpu["naive service"],
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", help="git revision for A (default: the working tree, as B)")
    parser.add_argument("--head", help="git revision for B (default: the working tree when the run starts)")
    parser.add_argument("--env-a", action="append", default=[])
    parser.add_argument("--env-b", action="append", default=[])
    parser.add_argument("--env", action="append", default=[], help="for both sides")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=600, help="Asks per c=32 measurement")
    parser.add_argument("--out", type=Path, help="JSON of every round")
    parser.add_argument("--down", action="store_true", help="stop the bench stack afterwards")
    parser.add_argument("--naive", action="store_true", help="measure the naive service in every round too")
    args = parser.parse_args()
    settings = bench_settings(supervise=False)
    env = ensure_stack(settings)
    questions = questions_from(sentences(), 200)
    with tempfile.TemporaryDirectory(dir=settings.run_dir) as scratch:
        source_a = export_tree(args.base, Path(scratch) / "a") if args.base else None
        common = PATIENT | _env_pairs(args.env)
        source_b = export_tree(args.head, Path(scratch) / "b") if args.head else snapshot_worktree(Path(scratch) / "b")
        variants = {
            "A": (source_a or source_b, common | _env_pairs(args.env_a)),
            "B": (source_b, common | _env_pairs(args.env_b)),
        }
        rounds: list[dict[str, Any]] = []
        naive = start_naive(settings.deps_dir / "models") if args.naive else None
        try:
            for index in range(args.rounds):
                _round(settings, env, questions, args.calls, variants, index, rounds, naive)
        finally:
            if naive is not None:
                naive.terminate()
                naive.wait(timeout=30)
    if args.down:
        stack.down(settings)
    summary = summarize(rounds)
    print(json.dumps(summary, indent=1))
    if args.out:
        args.out.write_text(
            json.dumps({"args": vars(args) | {"out": str(args.out)}, "rounds": rounds, "summary": summary}, indent=1)
        )
    return 0


def _round(
    settings: StackSettings,
    env: dict[str, str],
    questions: list[str],
    calls: int,
    variants: dict[str, tuple[Path, dict[str, str]]],
    index: int,
    rounds: list[dict[str, Any]],
    naive: subprocess.Popen[bytes] | None,
) -> None:
    """One round: A then B (B then A in odd rounds, so neither side always runs right after a
    restart of the other), then the naive service when given."""
    for name in ("A", "B") if index % 2 == 0 else ("B", "A"):
        source, extra = variants[name]
        # A part that died (tritonserver 2.51's Python backend can abort when starved of CPU) is
        # started again, so one crash does not void the rest of the run.
        stack.up(settings)
        restart_query_path(settings, source, extra)
        result = measure(settings, env, questions, calls)
        result.update(variant=name, round=index, load=os.getloadavg()[0])
        rounds.append(result)
        print(json.dumps(result), flush=True)
    if naive is not None:
        result = measure_naive(naive.pid, questions, calls)
        result.update(variant="naive", round=index, load=os.getloadavg()[0])
        rounds.append(result)
        print(json.dumps(result), flush=True)


def _process_cpu(round_: dict[str, Any], process: str) -> float:
    return float(round_["cpu_ms_per_ask"].get(process, 0.0))


def summarize(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    def median(variant: str, pick: Callable[[dict[str, Any]], float]) -> float:
        return round(float(statistics.median(pick(r) for r in rounds if r["variant"] == variant)), 2)

    keys: dict[str, Callable[[dict[str, Any]], float]] = {
        "c1_p50_ms": lambda r: r["c1_p50_ms"],
        "c32_per_s": lambda r: r["c32_per_s"],
        "cpu_ms_total": lambda r: r["cpu_ms_total"],
    }
    for process in next(r for r in rounds if r["variant"] != "naive")["cpu_ms_per_ask"]:
        keys[f"cpu:{process}"] = functools.partial(_process_cpu, process=process)
    table: dict[str, dict[str, float | None]] = {
        key: {v: median(v, pick) for v in ("A", "B")} for key, pick in keys.items()
    }
    for row in table.values():
        a, b = row["A"], row["B"]
        row["B/A"] = round(b / a, 3) if a and b is not None else None
    if any(r["variant"] == "naive" for r in rounds):
        # The naive service against each side, on the figures both have (no per-process split).
        for key in ("c1_p50_ms", "c32_per_s", "cpu_ms_total"):
            row = table[key]
            row["naive"] = naive = median("naive", keys[key])
            row["A/naive"] = round(float(row["A"] or 0) / naive, 3) if naive else None
            row["B/naive"] = round(float(row["B"] or 0) / naive, 3) if naive else None
    return table


if __name__ == "__main__":
    raise SystemExit(main())
