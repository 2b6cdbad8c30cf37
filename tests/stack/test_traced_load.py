"""Traced load (opt-in: `make load-test`): ghz at 64 connections on the embedder for
RAGMESH_LOAD_SECONDS (default 600) against the stack as `make up` runs it, every service tracing.
tritonserver 2.51 used to abort after ~80 s of this with Triton's own spans on while its HTTP health
kept answering; with its spans off by default it must not crash, and no call may fail other than
by being refused with RESOURCE_EXHAUSTED. Writes ghz's report to .run/<instance>/traced-load.json."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from bench.ghz import write_protoset
from ragmesh_devstack import components
from ragmesh_devstack.processes import ProcessTable

pytestmark = [pytest.mark.load, pytest.mark.timeout(3600)]
CONNECTIONS = 64


def test_triton_holds_64_traced_connections(running_stack, tmp_path: Path) -> None:
    settings = running_stack.settings
    seconds = int(os.environ.get("RAGMESH_LOAD_SECONDS", "600"))
    table = ProcessTable(settings.run_dir)
    triton = table.pid("triton")
    triton_log = table.log_path("triton")
    log_start = triton_log.stat().st_size
    report_path = settings.run_dir / "traced-load.json"
    request = {"texts": ["What does the with statement do, and how does a context manager exit?"]}
    subprocess.run(
        [
            str(settings.deps_dir / "ghz"),
            "--insecure",
            "--protoset",
            str(write_protoset(tmp_path / "ragmesh.protoset")),
            "--call",
            "ragmesh.embedder.v1.EmbedderService/Embed",
            "-d",
            json.dumps(request),
            "-c",
            str(CONNECTIONS),
            "--connections",
            str(CONNECTIONS),
            "-z",
            f"{seconds}s",
            # Calls in flight when the time is up finish and count: none is cut off by the client.
            "--duration-stop",
            "wait",
            "--timeout",
            "20s",
            "-O",
            "json",
            "-o",
            str(report_path),
            running_stack.address("embedder"),
        ],
        check=True,
        timeout=seconds + 120,
    )
    report = json.loads(report_path.read_text())
    codes = report.get("statusCodeDistribution", {})
    print(f"traced load: {report['count']} calls in {seconds}s, {report['rps']:.0f}/s, codes {codes}")
    assert report["count"] > 0 and codes.get("OK", 0) > 0
    assert set(codes) <= {"OK", "ResourceExhausted"}, (
        f"calls lost under load: {codes} {report.get('errorDistribution')}"
    )
    # The same Triton process, answering on its gRPC port, and nothing crashed on the way.
    assert table.pid("triton") == triton, "tritonserver was restarted or died"
    assert components.triton_ready(settings.triton_grpc_port)
    with triton_log.open("rb") as log:
        log.seek(log_start)
        logged = log.read().decode(errors="replace")
    assert "Signal (" not in logged and "corrupted" not in logged, logged[-2000:]
