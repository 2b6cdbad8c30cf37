"""Answer caches of the gateway, per tenant and in this process (exact answers are also shared
across replicas through Valkey when it is configured, see ``shared_state.Answers``).

- Exact: (tenant, normalised question, index generation, request options) -> answer.
- Semantic: a previous question of the same tenant, generation and options whose embedding has
  cosine >= ``threshold`` with this one.
Entries carry the tenant's index generation (see ``generations.py``): a document change bumps it,
so older entries never match again and age out of the LRU. A TTL bounds what the generation cannot
see (documents written straight to Kafka, not through this gateway).
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ragmesh_kit.domain import GeneratedAnswer

_SPACE = re.compile(r"\s+")
_EDGE_PUNCTUATION = " \t\n?!.,;:"


def normalise_question(text: str) -> str:
    """Case, inner whitespace and trailing punctuation do not change what is asked."""
    return _SPACE.sub(" ", text.casefold()).strip(_EDGE_PUNCTUATION)


def _unit(vector: Sequence[float]) -> NDArray[np.float32]:
    """The vector scaled to length 1 (float32), so a dot product is the cosine."""
    array = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(array))
    return array / norm if norm else array


@dataclass(frozen=True)
class CacheKey:
    tenant_id: str
    question: str  # normalised
    generation: int
    options: str  # top_k, filters, budgets, min score: anything that changes the answer


@dataclass
class _Entry:
    key: CacheKey
    vector: NDArray[np.float32]  # unit length
    answer: GeneratedAnswer
    expires: float


class AnswerCache:
    def __init__(
        self,
        ttl_seconds: float,
        semantic_threshold: float,
        max_entries_per_tenant: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._threshold = semantic_threshold
        self._max_entries = max_entries_per_tenant
        self._clock = clock
        self._tenants: dict[str, OrderedDict[CacheKey, _Entry]] = {}

    @property
    def ttl_seconds(self) -> float:
        return self._ttl

    def _live(self, tenant_id: str) -> OrderedDict[CacheKey, _Entry]:
        entries = self._tenants.setdefault(tenant_id, OrderedDict())
        now = self._clock()
        for key in [key for key, entry in entries.items() if entry.expires <= now]:
            del entries[key]
        return entries

    def exact(self, key: CacheKey) -> GeneratedAnswer | None:
        entries = self._live(key.tenant_id)
        entry = entries.get(key)
        if entry is None:
            return None
        entries.move_to_end(key)
        return entry.answer

    def semantic(self, key: CacheKey, vector: Sequence[float]) -> GeneratedAnswer | None:
        """The closest earlier question of the tenant with the same generation and options."""
        entries = self._live(key.tenant_id)
        candidates = [
            entry
            for entry in entries.values()
            if entry.key.generation == key.generation and entry.key.options == key.options
        ]
        if not candidates:
            return None
        # One matrix product over the candidates: 512 entries of 384 floats take ~0.05 ms here,
        # a Python loop ~46 ms (bench/shared_state.py).
        scores = np.stack([entry.vector for entry in candidates]) @ _unit(vector)
        best = int(np.argmax(scores))
        if float(scores[best]) < self._threshold:
            return None
        entries.move_to_end(candidates[best].key)
        return candidates[best].answer

    def store(self, key: CacheKey, vector: Sequence[float], answer: GeneratedAnswer) -> None:
        entries = self._live(key.tenant_id)
        entries[key] = _Entry(key, _unit(vector), answer, self._clock() + self._ttl)
        entries.move_to_end(key)
        while len(entries) > self._max_entries:
            entries.popitem(last=False)

    def drop_older_generations(self, tenant_id: str, generation: int) -> None:
        """Frees the memory of entries that can no longer match."""
        entries = self._tenants.get(tenant_id)
        if entries:
            for key in [key for key in entries if key.generation < generation]:
                del entries[key]
