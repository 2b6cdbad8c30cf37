"""vegeta (a Go HTTP load generator, built by `make setup`) as the naive service's counterpart of
ghz: the same questions from a Go client at a fixed number of workers, so the mesh's throughput
from ghz and the naive service's from vegeta come from clients of the same kind (our Python HTTP
client costs the naive service's shared cores ~2 ms per call, our gRPC client the mesh's ~0.6)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path
from typing import Any


def ask(
    vegeta: Path, work_dir: Path, url: str, questions: list[str], concurrency: int, seconds: float
) -> dict[str, Any]:
    """POSTs the questions round-robin to ``url`` from ``concurrency`` workers, as fast as they are
    answered, for ``seconds``; vegeta's own figures (throughput, percentiles, status codes)."""
    targets = work_dir / "vegeta-targets.jsonl"
    targets.write_text(
        "".join(
            json.dumps(
                {
                    "method": "POST",
                    "url": url,
                    "body": base64.b64encode(json.dumps({"question": q}).encode()).decode(),
                    "header": {"Content-Type": ["application/json"]},
                }
            )
            + "\n"
            for q in questions
        )
    )
    results = work_dir / "vegeta-results.bin"
    # One Go thread, as ghz runs: the load generator leaves the cores to what it measures.
    env = {**os.environ, "GOMAXPROCS": "1"}
    attack = [
        str(vegeta),
        "attack",
        "-format=json",
        f"-targets={targets}",
        "-rate=0",
        f"-workers={concurrency}",
        f"-max-workers={concurrency}",
        f"-duration={seconds:.0f}s",
        "-timeout=60s",
        f"-output={results}",
    ]
    subprocess.run(attack, check=True, timeout=seconds + 120, env=env)
    report = subprocess.run(
        [str(vegeta), "report", "-type=json", str(results)], check=True, capture_output=True, text=True, env=env
    )
    raw = json.loads(report.stdout)
    latencies = raw["latencies"]
    return {
        "concurrency": concurrency,
        "calls": raw["requests"],
        "codes": raw.get("status_codes", {}),
        # Successful responses per second over the attack and the wait for the last answers.
        "throughput": round(raw["throughput"], 2),
        "p50_ms": round(latencies["50th"] / 1e6, 2),
        "p95_ms": round(latencies["95th"] / 1e6, 2),
        "p99_ms": round(latencies["99th"] / 1e6, 2),
    }
