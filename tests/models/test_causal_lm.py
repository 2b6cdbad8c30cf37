"""The causal_lm Triton model on a real tritonserver (launched with the stack's own Triton launch
code, on free ports, with a repository holding only causal_lm): a tiny GPT-2 built here with random
weights and a tokenizer trained here, so nothing is downloaded. torch/transformers come from the
model's EXECUTION_ENV_PATH: the model-build venv that `make setup` keeps in the cache."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

import grpc
import pytest

from ragmesh_devstack.model_repository import link_model_packages
from ragmesh_kit.errors import RagmeshError
from ragmesh_kit.triton import BoolTensor, BytesTensor, Tensor, TritonClient
from ragmesh_models import causal_lm
from tests.eventually import eventually_async
from tests.triton_server import triton_serving

ROOT = Path(__file__).resolve().parents[2]
MODEL_SOURCE = ROOT / "models" / "triton" / "causal_lm"


def _torch_env() -> Path:
    """RAGMESH_CAUSAL_LM_ENV, else the model-build venv that `make setup` links at .deps/."""
    if os.environ.get("RAGMESH_CAUSAL_LM_ENV"):
        return Path(os.environ["RAGMESH_CAUSAL_LM_ENV"])
    return (ROOT / ".deps" / "model-build-venv").resolve()


class Server:
    def __init__(self, grpc_port: int, log: Path) -> None:
        self.address = f"127.0.0.1:{grpc_port}"
        self.log = log

    async def run(self, prompt: str, params: Mapping[str, object], stop_after: int | None = None) -> list[str]:
        inputs: dict[str, Tensor] = {
            "text_input": BytesTensor([prompt.encode()], shape=[1]),
            "stream": BoolTensor([True], shape=[1]),
            "sampling_parameters": BytesTensor([json.dumps(params).encode()], shape=[1]),
            "exclude_input_in_output": BoolTensor([True], shape=[1]),
        }
        pieces: list[str] = []
        async with grpc.aio.insecure_channel(self.address) as channel:
            stream = TritonClient(channel, 60).stream("causal_lm", inputs, ["text_output"])
            try:
                async for response in stream:
                    texts = response.outputs.get("text_output")
                    if isinstance(texts, list) and texts:  # the empty final response has no output
                        pieces.append(texts[0].decode())
                    if stop_after is not None and len(pieces) >= stop_after:
                        break
            finally:
                await stream.aclose()  # leaving the stream early cancels the request in Triton
        return pieces


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = _torch_env()
    if not (env / "bin" / "activate").exists():
        pytest.fail(f"no torch environment at {env}: run `make setup` or set RAGMESH_CAUSAL_LM_ENV", pytrace=False)
    work = tmp_path_factory.mktemp("causal-lm")
    model_dir = work / "tiny-gpt2"
    subprocess.run(
        [str(env / "bin" / "python"), str(Path(__file__).with_name("build_tiny_causal_lm.py")), str(model_dir)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    repository = work / "repository"
    shutil.copytree(MODEL_SOURCE, repository / "causal_lm", ignore=shutil.ignore_patterns("__pycache__"))
    link_model_packages(ROOT, repository)
    config = repository / "causal_lm" / "config.pbtxt"
    config.write_text(
        config.read_text().replace(
            'key: "hf_model_dir"\n  value: { string_value: "" }',
            f'key: "hf_model_dir"\n  value: {{ string_value: "{model_dir}" }}',
        )
        + f'parameters: {{\n  key: "EXECUTION_ENV_PATH"\n  value: {{ string_value: "{env}" }}\n}}\n'
    )
    assert str(model_dir) in config.read_text()
    with triton_serving(repository, "causal_lm", "triton-causal-lm") as triton:
        yield Server(triton.grpc_port, triton.log)


GREEDY = {"temperature": 0, "ignore_eos": True}
PROMPT = "The pass statement is"


async def test_streams_one_response_per_token_up_to_max_tokens(server: Server) -> None:
    pieces = await server.run(PROMPT, {**GREEDY, "max_tokens": 12})
    assert len(pieces) == 12
    assert "".join(pieces).strip()
    assert await server.run(PROMPT, {**GREEDY, "max_tokens": 12}) == pieces  # greedy is deterministic
    assert len(await server.run(PROMPT, {**GREEDY, "max_tokens": 3})) == 3


async def test_output_ends_before_a_stop_string(server: Server) -> None:
    text = "".join(await server.run(PROMPT, {**GREEDY, "max_tokens": 40}))
    stop = next(text[i : i + 3] for i in range(4, len(text) - 3) if text[i : i + 3].strip() and text[i] != text[0])
    cut = text[: text.find(stop)]
    stopped = await server.run(PROMPT, {**GREEDY, "max_tokens": 40, "stop": [stop, "never-there"]})
    assert "".join(stopped) == cut
    assert len(stopped) < 40


async def test_temperature_samples_and_seed_repeats(server: Server) -> None:
    greedy = await server.run(PROMPT, {**GREEDY, "max_tokens": 16})
    hot = {"temperature": 2.0, "ignore_eos": True, "max_tokens": 16}
    first = await server.run(PROMPT, {**hot, "seed": 1})
    assert await server.run(PROMPT, {**hot, "seed": 1}) == first
    assert first != greedy or await server.run(PROMPT, {**hot, "seed": 2}) != greedy


async def test_cancelling_the_stream_stops_generation(server: Server) -> None:
    before = server.log.read_text().count("[causal_lm] request cancelled by the client")
    pieces = await server.run(PROMPT, {**GREEDY, "max_tokens": 6000}, stop_after=2)
    assert len(pieces) == 2

    async def cancelled() -> bool:
        log = server.log.read_text()
        assert log.count("[causal_lm] request cancelled by the client") > before, log[-3000:]
        return True

    await eventually_async(cancelled, "the cancellation in Triton's log", timeout=15, interval=0.2)
    line = [x for x in server.log.read_text().splitlines() if "cancelled by the client" in x][-1]
    done = int(line.rsplit("after ", 1)[1].split("/")[0])
    assert done < 6000


async def test_bad_sampling_parameters_are_refused(server: Server) -> None:
    with pytest.raises(RagmeshError, match="max_tokens"):
        await server.run(PROMPT, {"max_tokens": 0})


def test_stop_scanner_holds_back_a_possible_stop_string() -> None:
    scanner = causal_lm.StopScanner(("END",))
    assert scanner.feed("abc E") == "abc "
    assert scanner.feed("N") == ""
    assert scanner.feed("x") == "ENx"
    assert scanner.feed(" fooEN") == " foo"
    assert scanner.feed("D more") == "" and scanner.stopped
    assert scanner.text == "abc ENx foo"


def test_sampling_parameters_parse() -> None:
    options = causal_lm.parse_options('{"max_tokens": "5", "stop": "\\n", "temperature": 0.7, "top_p": 0.9}')
    assert (options.max_tokens, options.stop, options.temperature) == (5, ("\n",), 0.7)
    with pytest.raises(causal_lm.OptionsError):
        causal_lm.parse_options('{"stop": [""]}')
