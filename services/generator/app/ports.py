from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ModelUsage:
    """Tokens as the model itself counted them (its own tokenizer), when it reports them."""

    prompt_tokens: int
    completion_tokens: int


class TextGenerationModel(Protocol):
    name: str

    def generate(self, prompt: str, max_tokens: int) -> AsyncIterator[str | ModelUsage]:
        """Yields the answer in pieces as the model produces them, then its ModelUsage when the
        model reports one; stopping the iteration early cancels the generation."""
        ...

    async def ready(self) -> bool: ...


class GenerationObserver(Protocol):
    """Where the use case reports timings (Prometheus in production)."""

    def first_piece(self, seconds: float) -> None: ...

    def tokens(self, prompt_tokens: int, completion_tokens: int) -> None: ...

    def finished(self, outcome: str, seconds: float) -> None:
        """outcome: completed, cancelled or failed."""
        ...

    def grounding(self, outcome: str) -> None:
        """What the grounding guard did (ragmesh_kit.domain grounding outcomes)."""
        ...
