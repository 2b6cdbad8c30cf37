"""A tritonserver of its own for a test module, on free ports, serving a repository the test lays
out, started with the local stack's own launch code (no tracing), stopped afterwards."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from ragmesh_devstack import components
from ragmesh_devstack.processes import ProcessTable
from ragmesh_devstack.settings import StackSettings
from tests.eventually import eventually
from tests.net import free_port

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class TritonProcess:
    grpc_port: int
    metrics_port: int
    log: Path


@contextmanager
def triton_serving(repository: Path, model: str, name: str) -> Iterator[TritonProcess]:
    """Starts tritonserver as ``name`` on ``repository`` and waits until ``model`` is ready."""
    ports = {"triton_http_port": free_port(), "triton_grpc_port": free_port(), "triton_metrics_port": free_port()}
    options: dict[str, Any] = {"instance": f"{name}-{os.getpid()}", "triton_tracing": False, **ports}
    settings = StackSettings(root=ROOT, **options)
    spec = components.triton(settings).spec
    command = [f"--model-repository={repository}" if a.startswith("--model-repository=") else a for a in spec.command]
    table = ProcessTable(settings.run_dir)
    (settings.run_dir / "triton").mkdir(parents=True, exist_ok=True)
    table.start(replace(spec, name=name, command=command))

    def ready() -> bool:
        if table.exited(name):
            pytest.fail(table.tail(name))
        url = f"http://127.0.0.1:{ports['triton_http_port']}/v2/models/{model}/ready"
        assert components.http_ok(url), table.tail(name)
        return True

    try:
        eventually(ready, f"the {model} model ready", timeout=180, interval=0.5)
        yield TritonProcess(ports["triton_grpc_port"], ports["triton_metrics_port"], table.log_path(name))
    finally:
        table.stop(name)
        shutil.rmtree(settings.run_dir, ignore_errors=True)
