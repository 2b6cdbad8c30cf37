"""Generation on Triton through the tensor interface of Triton's vLLM backend, so the same code
drives the extractive model, the llm and causal_lm models, and vLLM or TensorRT-LLM on a GPU."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ragmesh_kit.triton import BoolTensor, BytesTensor, Tensor, TritonClient
from services.generator.app.ports import ModelUsage

_COUNTS = ("return_num_input_tokens", "return_num_output_tokens")


class TritonTextGeneration:
    def __init__(self, client: TritonClient, model: str, sampling_parameters: Mapping[str, Any]) -> None:
        self._client = client
        self.name = model
        self._sampling = dict(sampling_parameters)
        self._reports_tokens: bool | None = None  # asked of Triton once (the model's declared inputs)

    async def generate(self, prompt: str, max_tokens: int) -> AsyncIterator[str | ModelUsage]:
        if self._reports_tokens is None:
            self._reports_tokens = set(_COUNTS) <= await self._client.model_inputs(self.name)
        parameters = {**self._sampling, "max_tokens": max_tokens}
        inputs: dict[str, Tensor] = {
            "text_input": BytesTensor([prompt.encode()], shape=[1]),
            "stream": BoolTensor([True], shape=[1]),
            "sampling_parameters": BytesTensor([json.dumps(parameters).encode()], shape=[1]),
            "exclude_input_in_output": BoolTensor([True], shape=[1]),
        }
        outputs = ["text_output"]
        if self._reports_tokens:
            inputs.update({name: BoolTensor([True], shape=[1]) for name in _COUNTS})
            outputs += ["num_input_tokens", "num_output_tokens"]
        prompt_tokens = completion_tokens = 0
        # Leaving this iteration early (the caller was cancelled) cancels the Triton stream.
        async for response in self._client.stream(self.name, inputs, outputs):
            texts = response.outputs.get("text_output")
            if isinstance(texts, list):
                for text in texts:
                    if text:
                        yield text.decode("utf-8", errors="replace")
            prompt_tokens = max(prompt_tokens, _count(response.outputs.get("num_input_tokens")))
            completion_tokens += _count(response.outputs.get("num_output_tokens"))
        if self._reports_tokens:
            yield ModelUsage(prompt_tokens, completion_tokens)

    async def ready(self) -> bool:
        return await self._client.model_ready(self.name)


def _count(value: NDArray[Any] | list[bytes] | None) -> int:
    return int(value.sum()) if isinstance(value, np.ndarray) else 0
