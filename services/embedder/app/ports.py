from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from numpy.typing import NDArray


class EmbeddingModel(Protocol):
    name: str

    @property
    def dimension(self) -> int:
        """The vectors' size, known once the model has been reached."""
        ...

    async def embed(self, texts: Sequence[str]) -> NDArray[Any]:
        """Unit-length vectors, one row per text, in input order."""
        ...

    async def ready(self) -> bool: ...
