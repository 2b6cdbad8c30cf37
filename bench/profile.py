"""`make profile`: py-spy flame graphs (speedscope JSON) of every process an Ask crosses — the
gateway, embedder, retriever, generator and Triton's Python-backend stubs (one per model
instance) — recorded together while 32 callers Ask through the mesh. Written to
docs/benchmarks/profiles/; open a file at https://www.speedscope.app (nothing is uploaded).

The bench stack instance is used (see bench/instance.py; RAGMESH_BENCH_PORT_SHIFT moves it)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.ab import ensure_stack
from bench.corpus import sentences
from bench.cpu import CpuMeter
from bench.instance import PATIENT, QUERY_PATH, bench_settings, restart_query_path
from bench.mesh import ask_load
from bench.run import questions_from
from ragmesh_devstack import stack
from ragmesh_devstack.processes import ProcessTable

OUT = Path(__file__).resolve().parents[1] / "docs/benchmarks/profiles"


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def targets(run_dir: Path) -> dict[str, int]:
    """Process name -> pid: the query path's services and each Triton model instance's stub."""
    table = ProcessTable(run_dir)
    found = {name: pid for name in QUERY_PATH if (pid := table.pid(name)) is not None}
    triton = table.pid("triton")
    for child in _children(triton) if triton else []:
        command = (Path("/proc") / str(child) / "cmdline").read_bytes().split(b"\0")
        # The stub's arguments end with the model instance's name (minilm_0_1) and its kind.
        instance = command[-3].decode() if len(command) >= 3 else str(child)
        found[f"triton-{instance}"] = child
    return found


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rate", type=int, default=50, help="samples per second per process")
    parser.add_argument("--down", action="store_true", help="stop the bench stack afterwards")
    args = parser.parse_args()
    settings = bench_settings(supervise=False)
    env = ensure_stack(settings)
    restart_query_path(settings, env=PATIENT)
    questions = questions_from(sentences(), 200)
    address, key = env["GATEWAY_ADDR"], env["RAGMESH_API_KEY"]
    asyncio.run(ask_load(address, key, questions, 32, 200))  # warm: caches, connections, batching
    OUT.mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).parent / "py-spy"
    recorders = {
        name: subprocess.Popen(
            [
                str(spy),
                "record",
                "--pid",
                str(pid),
                "--rate",
                str(args.rate),
                "--duration",
                str(args.seconds),
                "--format",
                "speedscope",
                "--output",
                str(OUT / f"{name}.speedscope.json"),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for name, pid in targets(settings.run_dir).items()
    }
    time.sleep(1.0)  # py-spy attaches
    meter = CpuMeter.for_stack(settings.run_dir)
    started = time.monotonic()
    calls = 0
    with meter.during():
        while time.monotonic() - started < args.seconds - 2:
            calls += asyncio.run(ask_load(address, key, questions, 32, 300)).calls
    for name, recorder in recorders.items():
        _, errors = recorder.communicate(timeout=args.seconds + 60)
        if recorder.returncode != 0:
            print(f"profile: py-spy on {name} failed: {errors.decode()[-300:]}", file=sys.stderr)
    summary = {
        "concurrency": 32,
        "asks": calls,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpu_ms_per_ask": meter.per_call_ms(calls),
        "files": sorted(path.name for path in OUT.glob("*.speedscope.json")),
    }
    (OUT / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    if args.down:
        stack.down(settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
