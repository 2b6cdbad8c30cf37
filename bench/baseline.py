"""Ask as it was before the answer-quality work, beside today's, in the same run: the extractive
model from the commit before that work (read from git history) loaded into the bench's Triton as
"generator_baseline", with its own generator service and gateway. Both paths share the embedder,
retriever and Triton, so the difference between the two Ask latencies is the answering code."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import grpc
import numpy as np
from tritonclient.grpc import service_pb2, service_pb2_grpc

from ragmesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ragmesh_devstack import components
from ragmesh_devstack.processes import ProcessTable
from ragmesh_devstack.settings import StackSettings

# The last commit before the answer-quality work (units, composition, hybrid retrieval, Search).
BASELINE_COMMIT = "6898d45e3321379672161f1919a2901942b6b099"
BASELINE_MODEL = "generator_baseline"
MODEL_FILES = ("config.pbtxt", "1/model.py", "1/extractive.py")


class BaselineUnavailable(RuntimeError):
    """The clone lacks the baseline commit (a shallow clone): the comparison is left out."""


def write_baseline_model(root: Path, repository: Path) -> None:
    """The baseline's model files, renamed, into the running Triton's model repository."""
    target = repository / BASELINE_MODEL
    for name in MODEL_FILES:
        shown = subprocess.run(
            ["git", "show", f"{BASELINE_COMMIT}:models/triton/generator/{name}"],
            cwd=root,
            capture_output=True,
            text=True,
        )
        if shown.returncode != 0:
            raise BaselineUnavailable(f"git show {BASELINE_COMMIT[:12]} failed: {shown.stderr.strip()}")
        text = shown.stdout
        if name == "config.pbtxt":
            text = text.replace('name: "generator"', f'name: "{BASELINE_MODEL}"', 1)
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def load_model(settings: StackSettings, model: str) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{settings.triton_grpc_port}") as channel:
        stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
        stub.RepositoryModelLoad(service_pb2.RepositoryModelLoadRequest(model_name=model), timeout=120)


def unload_model(settings: StackSettings, model: str) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{settings.triton_grpc_port}") as channel:
        stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
        stub.RepositoryModelUnload(service_pb2.RepositoryModelUnloadRequest(model_name=model), timeout=60)


def _start(table: ProcessTable, component: components.Component, name: str, port: int) -> None:
    table.stop(name)
    table.start(replace(component.spec, name=name))
    deadline = time.monotonic() + 60
    while not components.grpc_serving(port):
        if time.monotonic() > deadline or table.exited(name):
            raise RuntimeError(f"{name} did not start:\n{table.tail(name)}")
        time.sleep(0.25)


@contextmanager
def baseline_gateway(settings: StackSettings, gateway_env: dict[str, str]) -> Iterator[str]:
    """A generator on the baseline model and a gateway in front of it (ports +101/+102), the gateway
    configured like the bench's own (``gateway_env``); yields the gateway's address."""
    write_baseline_model(settings.root, settings.run_dir / "model-repository")
    load_model(settings, BASELINE_MODEL)
    generator_port = settings.generator_port + 101
    gateway_port = settings.gateway_port + 102
    shifted = settings.model_copy(
        update={
            "generator_metrics_port": settings.generator_metrics_port + 101,
            "gateway_metrics_port": settings.gateway_metrics_port + 102,
        }
    )
    generator = components.python_service(
        shifted,
        "generator",
        generator_port,
        {
            "GENERATOR_TRITON_URL": f"127.0.0.1:{settings.triton_grpc_port}",
            "GENERATOR_TRITON_MODEL": BASELINE_MODEL,
        },
    )
    gateway = components.python_service(
        shifted, "gateway", gateway_port, {**gateway_env, "GATEWAY_GENERATOR_ADDR": f"127.0.0.1:{generator_port}"}
    )
    table = ProcessTable(settings.run_dir)
    try:
        _start(table, generator, "generator-baseline", generator_port)
        _start(table, gateway, "gateway-baseline", gateway_port)
        yield f"127.0.0.1:{gateway_port}"
    finally:
        table.stop("gateway-baseline")
        table.stop("generator-baseline")
        unload_model(settings, BASELINE_MODEL)


async def interleaved_asks(
    addresses: dict[str, str], api_key: str, questions: list[str], calls: int
) -> dict[str, dict[str, float]]:
    """One caller (c=1) alternating between the gateways, same question for each, so machine noise
    falls on both alike; p50/p95 of the streamed Ask's total time per gateway."""
    metadata = (("x-api-key", api_key),)
    channels = {name: grpc.aio.insecure_channel(address) for name, address in addresses.items()}
    latencies: dict[str, list[float]] = {name: [] for name in addresses}
    try:
        stubs = {name: gateway_pb2_grpc.GatewayServiceStub(channel) for name, channel in channels.items()}
        for index in range(calls + 4):
            for name, stub in stubs.items():
                request = gateway_pb2.AskStreamRequest(question=questions[index % len(questions)], bypass_cache=True)
                started = time.perf_counter()
                async for _ in stub.AskStream(request, metadata=metadata, timeout=60):
                    pass
                if index >= 4:  # the first calls warm both paths
                    latencies[name].append((time.perf_counter() - started) * 1000)
    finally:
        for channel in channels.values():
            await channel.close()
    return {
        name: {
            "calls": len(values),
            "p50_ms": round(float(np.percentile(values, 50)), 2),
            "p95_ms": round(float(np.percentile(values, 95)), 2),
        }
        for name, values in latencies.items()
    }
