"""Use case: validate texts and embed them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from numpy.typing import NDArray
from opentelemetry import trace

from ragmesh_kit.errors import InvalidArgument
from services.embedder.app.ports import EmbeddingModel


@dataclass(frozen=True)
class Embeddings:
    vectors: NDArray[Any]
    model: str
    dimension: int


class EmbedTexts:
    def __init__(
        self, model: EmbeddingModel, max_texts: int, max_text_chars: int, observe_batch: Callable[[int], None]
    ) -> None:
        self._model = model
        self._observe_batch = observe_batch
        self._max_texts = max_texts
        self._max_text_chars = max_text_chars

    async def __call__(self, texts: Sequence[str]) -> Embeddings:
        if not texts:
            raise InvalidArgument("texts is empty; send at least one text")
        if len(texts) > self._max_texts:
            raise InvalidArgument(f"{len(texts)} texts in one request; send at most {self._max_texts} per call")
        for index, text in enumerate(texts):
            if not text.strip():
                raise InvalidArgument(f"texts[{index}] is empty or blank")
            if len(text) > self._max_text_chars:
                raise InvalidArgument(f"texts[{index}] has {len(text)} characters; the limit is {self._max_text_chars}")
        self._observe_batch(len(texts))
        trace.get_current_span().set_attribute("ragmesh.embed.texts", len(texts))
        vectors = await self._model.embed(texts)
        return Embeddings(vectors=vectors, model=self._model.name, dimension=self._model.dimension)
