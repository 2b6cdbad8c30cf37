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

import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ragmesh_kit.domain import GeneratedAnswer

_SPACE = re.compile(r"\s+")
_EDGE_PUNCTUATION = " \t\n?!.,;:"


def normalise_question(text: str) -> str:
    """Case, inner whitespace and trailing punctuation do not change what is asked."""
    return _SPACE.sub(" ", text.casefold()).strip(_EDGE_PUNCTUATION)


def _cosine(left: Sequence[float], right: Sequence[float]) -> float:
    dot = sum(a * b for a, b in zip(left, right, strict=False))
    norms = math.sqrt(sum(a * a for a in left)) * math.sqrt(sum(b * b for b in right))
    return dot / norms if norms else 0.0


@dataclass(frozen=True)
class CacheKey:
    tenant_id: str
    question: str  # normalised
    generation: int
    options: str  # top_k, filters, budgets, min score: anything that changes the answer


@dataclass
class _Entry:
    key: CacheKey
    vector: Sequence[float]
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
        best: _Entry | None = None
        best_score = self._threshold
        for entry in entries.values():
            if entry.key.generation != key.generation or entry.key.options != key.options:
                continue
            score = _cosine(vector, entry.vector)
            if score >= best_score:
                best, best_score = entry, score
        if best is None:
            return None
        entries.move_to_end(best.key)
        return best.answer

    def store(self, key: CacheKey, vector: Sequence[float], answer: GeneratedAnswer) -> None:
        entries = self._live(key.tenant_id)
        entries[key] = _Entry(key, list(vector), answer, self._clock() + self._ttl)
        entries.move_to_end(key)
        while len(entries) > self._max_entries:
            entries.popitem(last=False)

    def drop_older_generations(self, tenant_id: str, generation: int) -> None:
        """Frees the memory of entries that can no longer match."""
        entries = self._tenants.get(tenant_id)
        if entries:
            for key in [key for key in entries if key.generation < generation]:
                del entries[key]
