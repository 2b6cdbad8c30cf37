"""The benchmark's own stack instance (.run/bench): every port of the dev stack shifted, by 5000
unless RAGMESH_BENCH_PORT_SHIFT says otherwise (two people benchmarking on one machine pick
different shifts), and the query path's services restartable from another source tree (A/B runs)."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

from ragmesh_devstack import components
from ragmesh_devstack.processes import ProcessTable
from ragmesh_devstack.settings import StackSettings

DEFAULT_SHIFT = 5000
# The services an Ask crosses (the indexer is idle during the Ask loads).
QUERY_PATH = ("retriever", "embedder", "generator", "gateway")
# Tenants' quotas lifted on the benchmark's gateway: it measures speed, not the quota.
UNLIMITED = {
    "GATEWAY_REQUESTS_PER_MINUTE": "100000000",
    "GATEWAY_TOKENS_PER_MINUTE": "100000000000",
    "GATEWAY_TOKENS_PER_DAY": "100000000000",
}

# Timeouts for a shared, noisy machine: a slow moment must not open a breaker in the middle of a
# measurement (both sides of an A/B get them).
PATIENT = {
    "GATEWAY_EMBED_TIMEOUT_SECONDS": "30",
    "GATEWAY_SEARCH_TIMEOUT_SECONDS": "30",
    "EMBEDDER_TRITON_TIMEOUT_SECONDS": "30",
}


def port_shift() -> int:
    return int(os.environ.get("RAGMESH_BENCH_PORT_SHIFT", DEFAULT_SHIFT))


def naive_port() -> int:
    return 13765 + port_shift()


def bench_settings(**overrides: object) -> StackSettings:
    """Triton's OpenTelemetry tracing off: tritonserver 2.51 crashes (signal 11) under sustained
    concurrent load with it on (triton-inference-server/server#7795)."""
    shift = port_shift()
    ports = {
        name: field.default + shift
        for name, field in StackSettings.model_fields.items()
        if name.endswith("_port") and isinstance(field.default, int)
    }
    return StackSettings(instance="bench", triton_tracing=False, **{**ports, **overrides})  # type: ignore[arg-type]


def restart_query_path(settings: StackSettings, source: Path | None = None, env: dict[str, str] | None = None) -> None:
    """Restarts the query path's services, from ``source`` (a copy of another commit's tree; the
    stack's own by default) with ``env`` added, and waits until they serve."""
    table = ProcessTable(settings.run_dir)
    wanted = {component.name: component for component in components.services(settings)}
    for name in reversed(QUERY_PATH):
        table.stop(name)
    for name in QUERY_PATH:
        spec = wanted[name].spec
        extra = {**(env or {}), **(UNLIMITED if name == "gateway" else {})}
        if source is not None:
            extra["PYTHONPATH"] = ":".join(str(source / part) for part in (".", "libs", "libs/gen"))
        table.start(replace(spec, env={**spec.env, **extra}, cwd=source or spec.cwd))
    port_of = {name: getattr(settings, f"{name}_port") for name in QUERY_PATH}
    deadline = time.monotonic() + 120
    for name in QUERY_PATH:
        while not components.grpc_serving(port_of[name]):
            if time.monotonic() > deadline or table.exited(name):
                raise RuntimeError(f"{name} did not start:\n{table.tail(name)}")
            time.sleep(0.25)
