"""ghz (a Go gRPC load generator, built by `make setup`) as a second client of the Ask benchmark, so
the figures do not rest on our own Python client alone: unary Ask, the same questions, the cache
bypassed. Fed a protoset compiled from protos/ into the bench instance's run directory (a build
output, never committed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def write_protoset(path: Path) -> Path:
    protos = sorted(str(p.relative_to(ROOT / "protos")) for p in (ROOT / "protos").rglob("*.proto"))
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            "-I",
            "protos",
            "--include_imports",
            f"--descriptor_set_out={path}",
            *protos,
        ],
        check=True,
        cwd=ROOT,
    )
    return path


def ask(
    ghz: Path, work_dir: Path, address: str, api_key: str, questions: list[str], concurrency: int, calls: int
) -> dict[str, Any]:
    """``calls`` unary Asks from ``concurrency`` workers on as many connections; ghz's own
    figures (throughput, percentiles, status codes)."""
    protoset = write_protoset(work_dir / "ragmesh.protoset")
    data = work_dir / "ghz-ask.json"
    data.write_text(json.dumps([{"question": q, "bypass_cache": True} for q in questions]))
    report = work_dir / "ghz-report.json"
    subprocess.run(
        [
            str(ghz),
            "--insecure",
            "--protoset",
            str(protoset),
            "--call",
            "ragmesh.gateway.v1.GatewayService/Ask",
            "--data-file",
            str(data),
            "--metadata",
            json.dumps({"x-api-key": api_key}),
            "-c",
            str(concurrency),
            "--connections",
            str(min(concurrency, 8)),
            "-n",
            str(calls),
            "--timeout",
            "60s",
            # One Go thread: the load generator leaves the cores to what it measures.
            "--cpus",
            "1",
            "-O",
            "json",
            "-o",
            str(report),
            address,
        ],
        check=True,
        timeout=600,
    )
    raw = json.loads(report.read_text())
    percentiles = {item["percentage"]: item["latency"] / 1e6 for item in raw.get("latencyDistribution") or []}
    return {
        "concurrency": concurrency,
        "calls": raw["count"],
        "codes": raw.get("statusCodeDistribution", {}),
        "throughput": round(raw["rps"], 2),
        "p50_ms": round(percentiles.get(50, float("nan")), 2),
        "p95_ms": round(percentiles.get(95, float("nan")), 2),
        "p99_ms": round(percentiles.get(99, float("nan")), 2),
    }
