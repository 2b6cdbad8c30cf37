"""The llm Triton model with the real SmolLM2-135M-Instruct (tests/models/conftest.py starts it):
continuous batching, cancellation, bad input."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from ragmesh_kit.errors import RagmeshError
from ragmesh_kit.triton import BoolTensor, BytesTensor, Tensor, TritonClient
from tests.eventually import eventually_async
from tests.models.conftest import LlmServer

GREEDY = {"temperature": 0}
RAW = "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"


async def test_streams_tokens_and_reports_the_models_token_counts(llm_server: LlmServer) -> None:
    pieces, counts = await llm_server.run(RAW, {**GREEDY, "max_tokens": 12, "ignore_eos": True})
    assert "Paris" in "".join(pieces)
    assert counts["output"] == 12
    assert 15 < counts["input"] < 40  # SmolLM2's tokenizer, not cl100k


async def test_eight_concurrent_streams_match_one_at_a_time(llm_server: LlmServer) -> None:
    questions = [f"Name {n} fruits that are red." for n in range(2, 10)]
    prompts = [RAW.replace("What is the capital of France?", q) for q in questions]
    params = {**GREEDY, "max_tokens": 24}
    alone = [(await llm_server.run(p, params))[0] for p in prompts]
    together = await asyncio.gather(*(llm_server.run(p, params) for p in prompts))
    assert ["".join(pieces) for pieces, _ in together] == ["".join(pieces) for pieces in alone]


async def test_a_cancelled_stream_frees_its_slot_for_the_next_request(llm_server: LlmServer) -> None:
    # max_sequences is 8: nine cancelled streams would leave no slot if a cancelled one kept its own.
    for _ in range(9):
        pieces, _ = await llm_server.run(RAW, {**GREEDY, "max_tokens": 900, "ignore_eos": True}, stop_after=2)
        assert len(pieces) == 2

    async def all_cancelled() -> bool:
        log = llm_server.log.read_text()
        assert log.count("cancelled after") >= 9, log[-3000:]
        return True

    await eventually_async(all_cancelled, "nine cancellations in Triton's log", timeout=30, interval=0.2)
    pieces, counts = await llm_server.run(RAW, {**GREEDY, "max_tokens": 8, "ignore_eos": True})
    assert counts["output"] == 8 and "Paris" in "".join(pieces)


@pytest.mark.parametrize(
    "params",
    ['{"max_tokens": 0}', '{"temperature": "hot"}', '{"top_p": 1.5}', '{"stop": [""]}', "[1, 2]", "{not json"],
)
async def test_malformed_sampling_parameters_are_invalid_argument(llm_server: LlmServer, params: str) -> None:
    inputs: dict[str, Tensor] = {
        "text_input": BytesTensor([RAW.encode()], shape=[1]),
        "stream": BoolTensor([True], shape=[1]),
        "sampling_parameters": BytesTensor([params.encode()], shape=[1]),
    }
    async with grpc.aio.insecure_channel(llm_server.address) as channel:
        with pytest.raises(RagmeshError, match="sampling_parameters") as raised:
            async for _ in TritonClient(channel, 60).stream("llm", inputs, ["text_output"]):
                pass
    assert raised.value.status_code == grpc.StatusCode.INVALID_ARGUMENT, raised.value.message


async def test_a_prompt_over_the_context_is_invalid_argument_and_the_model_keeps_serving(llm_server: LlmServer) -> None:
    with pytest.raises(RagmeshError, match="prompt has") as raised:
        await llm_server.run("word " * 3000, {**GREEDY, "max_tokens": 4})
    assert raised.value.status_code == grpc.StatusCode.INVALID_ARGUMENT, raised.value.message
    pieces, _ = await llm_server.run(RAW, {**GREEDY, "max_tokens": 8})
    assert "Paris" in "".join(pieces)


async def test_a_source_layout_prompt_is_answered_from_the_selected_evidence(llm_server: LlmServer) -> None:
    prompt = (
        "Answer from the sources.\n\n<<<SOURCE 1>>>\ntitle: Pass\ndocument: d1\nThe pass statement is a null "
        "operation: when it is executed, nothing happens. It is useful as a placeholder.\n<<<END SOURCE>>>\n\n"
        "<<<SOURCE 2>>>\ntitle: Zebras\ndocument: d2\nZebras have black and white stripes.\n<<<END SOURCE>>>\n\n"
        "<<<QUESTION>>>\nWhat does the pass statement do?\n<<<ANSWER>>>\n"
    )
    pieces, counts = await llm_server.run(prompt, {**GREEDY, "max_tokens": 48})
    assert "null operation" in "".join(pieces).lower()
    assert counts["input"] < 200  # the evidence sentences, not the whole prompt
