from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class EmbeddingModel(Protocol):
    name: str

    @property
    def dimension(self) -> int:
        """The vectors' size, known once the model has been reached."""
        ...

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length vectors, one row per text, in input order."""
        ...

    async def ready(self) -> bool: ...
