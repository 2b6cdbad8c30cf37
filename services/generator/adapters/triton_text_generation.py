"""Generation on Triton through the tensor interface of Triton's vLLM backend, so the same code
drives the extractive model, the causal_lm model and a vLLM or TensorRT-LLM model on a GPU."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from ragmesh_kit.triton import BoolTensor, BytesTensor, Tensor, TritonClient


class TritonTextGeneration:
    def __init__(self, client: TritonClient, model: str, sampling_parameters: Mapping[str, Any]) -> None:
        self._client = client
        self.name = model
        self._sampling = dict(sampling_parameters)

    async def generate(self, prompt: str, max_tokens: int) -> AsyncIterator[str]:
        parameters = {**self._sampling, "max_tokens": max_tokens}
        inputs: dict[str, Tensor] = {
            "text_input": BytesTensor([prompt.encode()], shape=[1]),
            "stream": BoolTensor([True], shape=[1]),
            "sampling_parameters": BytesTensor([json.dumps(parameters).encode()], shape=[1]),
            "exclude_input_in_output": BoolTensor([True], shape=[1]),
        }
        # Leaving this iteration early (the caller was cancelled) cancels the Triton stream.
        async for response in self._client.stream(self.name, inputs, ["text_output"]):
            texts = response.outputs.get("text_output")
            if isinstance(texts, list):
                for text in texts:
                    if text:
                        yield text.decode("utf-8", errors="replace")

    async def ready(self) -> bool:
        return await self._client.model_ready(self.name)
