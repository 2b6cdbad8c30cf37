from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol


class TextGenerationModel(Protocol):
    name: str

    def generate(self, prompt: str, max_tokens: int) -> AsyncIterator[str]:
        """Yields the answer in pieces as the model produces them; stopping the iteration
        early cancels the generation."""
        ...

    async def ready(self) -> bool: ...


class GenerationObserver(Protocol):
    """Where the use case reports timings (Prometheus in production)."""

    def first_piece(self, seconds: float) -> None: ...

    def tokens(self, prompt_tokens: int, completion_tokens: int) -> None: ...

    def finished(self, outcome: str, seconds: float) -> None:
        """outcome: completed, cancelled or failed."""
        ...
