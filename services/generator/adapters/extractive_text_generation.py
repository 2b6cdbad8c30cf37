"""The extractive answerer run inside the generator process: the code of the Triton model
"generator" (ragmesh_answering), called directly. Composing an answer from the prompt's sources
is a few hundred microseconds of pure Python; sent to Triton it also paid the model server's
round trip, the Python backend's stub hand-off and a streamed response per piece (measured on
the bench stack: see docs/benchmarks/cpu-per-ask.md)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from ragmesh_answering import extractive
from services.generator.app.ports import ModelUsage

# The name of the Triton model this stands in for: answers, metrics and the fallback setting keep it.
EXTRACTIVE_MODEL = "generator"


class ExtractiveTextGeneration:
    def __init__(self, sampling_parameters: Mapping[str, Any], name: str = EXTRACTIVE_MODEL) -> None:
        self.name = name
        # Read once: a bad option stops start-up (ValueError naming the key) instead of every call.
        self._options = extractive.parse_sampling_parameters(json.dumps(dict(sampling_parameters)))

    async def generate(self, prompt: str, max_tokens: int) -> AsyncIterator[str | ModelUsage]:
        options = self._options
        # Inline, not in a thread: the work is shorter than a thread hand-off would cost.
        text = extractive.answer(prompt, options["max_sentences"], options["relevance_threshold"])
        parts = extractive.pieces(text)[: max(1, max_tokens)]
        if options["piece_granularity"] == "sentence":
            parts = extractive.group_by_sentence(parts)
        delay = float(options["piece_delay_ms"]) / 1000.0
        for index, piece in enumerate(parts):
            if index and delay:
                await asyncio.sleep(delay)
            yield piece

    async def ready(self) -> bool:
        return True
