"""The extractive answerer run inside the generator process: the code of the Triton model
"generator" (ragmesh_answering), called directly. Composing an answer from the prompt's sources
is a few hundred microseconds of pure Python; sent to Triton it also paid the model server's
round trip, the Python backend's stub hand-off and a streamed response per piece (measured on
the bench stack: see docs/benchmarks/cpu-per-ask.md)."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from ragmesh_answering import extractive
from services.generator.app.ports import ModelUsage

# The name of the Triton model this stands in for: answers, metrics and the fallback setting keep it.
EXTRACTIVE_MODEL = "generator"
# Up to about the default context (1,500 tokens) the answer is composed inline: 0.3-1.6 ms, less
# than a thread hand-off costs. A larger prompt (up to 36 sources at the 6,000-token limit: 2.5-8.5
# ms) goes to a worker thread so the event loop keeps serving the other calls meanwhile.
INLINE_PROMPT_CHARS = 12_000


class ExtractiveTextGeneration:
    def __init__(self, sampling_parameters: Mapping[str, Any], name: str = EXTRACTIVE_MODEL) -> None:
        self.name = name
        # Read once: a bad option stops start-up (ValueError naming the key) instead of every call.
        self._options = extractive.parse_sampling_parameters(json.dumps(dict(sampling_parameters)))

    async def generate(self, prompt: str, max_tokens: int) -> AsyncIterator[str | ModelUsage]:
        options = self._options
        compose = functools.partial(extractive.answer, prompt, options["max_sentences"], options["relevance_threshold"])
        text = compose() if len(prompt) <= INLINE_PROMPT_CHARS else await asyncio.to_thread(compose)
        parts = extractive.answer_pieces(text, max(1, max_tokens), options["piece_granularity"])
        delay = float(options["piece_delay_ms"]) / 1000.0
        for index, piece in enumerate(parts):
            if index and delay:
                await asyncio.sleep(delay)
            yield piece

    async def ready(self) -> bool:
        return True
