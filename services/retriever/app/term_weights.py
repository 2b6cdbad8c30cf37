"""Sparse term vectors for the keyword half of hybrid retrieval (BM25 with Qdrant doing the IDF).

A chunk's sparse vector holds, per term, a BM25 term-frequency weight
``tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avg_length))``; a query's holds weight 1 per
distinct term. The store's sparse vector carries Qdrant's IDF modifier, so the engine multiplies
each matched term by its inverse document frequency at query time: the dot product is BM25, with
document frequencies always current (no corpus statistics kept here).

Tokenisation is built for technical text, where the words that decide a question are identifiers:
``os.path.join``, ``--top-k``, ``max_chunks_per_document``, ``AsyncRagmeshClient``. Each such token is
kept whole (lowercased, so a question can name it exactly and match only chunks that name it too),
a flag also as written (case kept: ``-b`` and ``-B`` differ) and without its leading dashes
(``top-k``), and split into its parts (``os``, ``path``, ``join``; ``async``, ``ragmesh``, ``client``),
so partial mentions still match, more weakly. English stopwords and one-character parts are dropped;
plain words lose a plural -s.

Term ids are the first 4 bytes of a BLAKE2b digest of the term: stable across processes and
versions (Python's ``hash`` is salted), 2**32 buckets, so a collision is rare and costs only a
spurious partial match. Changing the tokenisation or the hash changes stored vectors: reindex.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

# Standard BM25 saturation and length normalisation. The average length is about the number of terms
# (as ``terms`` counts them) of a full 200-token chunk of prose; a constant, not a statistic, so every
# stored weight stays valid as documents come and go.
K1 = 1.2
B = 0.75
AVG_LENGTH = 100.0

# A word, an identifier with dots/dashes/underscores/colons/slashes between its parts, or a flag.
_TOKEN = re.compile(r"-{0,2}[A-Za-z0-9_]+(?:(?:[.:/]|::|-)[A-Za-z0-9_]+)*")
_PIECES = re.compile(r"[.:/\-]+")
_WORDS = re.compile(r"_+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")

_STOPWORDS = frozenset(
    """a an and are as at be been but by can could did do does doing done for from had has have
    how i if in into is it its itself me my no not of on or our so such than that the their them
    then there these they this those to too was we were what when where which while who whom why
    will with would you your""".split()
)


@dataclass(frozen=True)
class SparseTerms:
    """Term ids (ascending, distinct) and their weights, ready to store or query."""

    indices: list[int]
    values: list[float]


@lru_cache(maxsize=1 << 16)
def term_id(term: str) -> int:
    return int.from_bytes(hashlib.blake2b(term.encode("utf-8"), digest_size=4).digest(), "big")


def _stem(word: str) -> str:
    """Plural -s off plain words ("statements" finds "statement"); applied alike to chunks and
    queries, so an identifier that ends in s ("kwargs") still matches itself."""
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss") and word.isalpha():
        return word[:-1]
    return word


def _parts(token: str) -> list[str]:
    """The pieces between dots, colons, slashes and dashes, then their snake_case and CamelCase words."""
    parts: list[str] = []
    for piece in _PIECES.split(token):
        words = [w for part in _WORDS.split(piece) for w in (_CAMEL.findall(part) or [part]) if w]
        parts.append(piece.strip("_"))
        if len(words) > 1:
            parts.extend(words)
    return parts


def _keep(word: str) -> str | None:
    return None if len(word) < 2 or word in _STOPWORDS else _stem(word)


def terms(text: str) -> list[str]:
    """The terms of ``text`` in order, repeats kept (their count is the term frequency)."""
    out: list[str] = []
    for match in _TOKEN.finditer(text):
        out.extend(_token_terms(match.group(0)))
    return out


# Words repeat across chunks, so each distinct token is analysed once (measured: 1 ms per
# 1,000-character chunk uncached, most of it here); bounded, so memory stays flat.
@lru_cache(maxsize=1 << 16)
def _token_terms(raw: str) -> tuple[str, ...]:
    out: list[str] = []
    whole = raw.lower()
    bare = _keep(whole.lstrip("-"))
    if bare:
        out.append(bare)
    if raw.startswith("-"):
        # The flag as written, case kept (-b and -B are different options): "--top-k" matches
        # flags, not the words top and k.
        out.append(raw)
    seen = {bare}
    for part in _parts(raw.lstrip("-")):
        kept = _keep(part.lower())
        if kept and kept not in seen:
            seen.add(kept)
            out.append(kept)
    return tuple(out)


def document_terms(text: str) -> SparseTerms:
    """A chunk's vector: BM25 term-frequency weights (the IDF is applied by the store)."""
    counts = Counter(terms(text))
    length = sum(counts.values())
    norm = K1 * (1 - B + B * length / AVG_LENGTH)
    weights: dict[int, float] = {}
    for term, tf in counts.items():
        # Two terms hashing to one id add up, as the same term would.
        tid = term_id(term)
        weights[tid] = weights.get(tid, 0.0) + tf * (K1 + 1) / (tf + norm)
    return _sorted(weights)


def query_terms(text: str) -> SparseTerms:
    """A query's vector: weight 1 per distinct term, so the score is the sum of matched terms'
    document weight times IDF (repeating a word in a question does not count it twice)."""
    return _sorted(dict.fromkeys((term_id(term) for term in terms(text)), 1.0))


def _sorted(weights: dict[int, float]) -> SparseTerms:
    ordered = sorted(weights.items())
    return SparseTerms(indices=[i for i, _ in ordered], values=[v for _, v in ordered])
