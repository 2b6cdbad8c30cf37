"""The grounding guard: every sentence of a language model's answer must be supported by the source
it cites. Support = the mean of two shares: of the sentence's content words (stopwords out, light
stemming) that the cited sources contain, and of its pairs of neighbouring content words that they
contain (words alone let a sentence stitch a source's vocabulary into a new claim). A sentence below
the threshold, or citing a label the prompt does not hold, is dropped. A sentence that cites nothing
(small models often leave the markers out) is given the source that supports it best, if that one
passes, and its marker is added. A sentence that repeats a kept one (small models loop) is dropped.
An answer left with no sentence is for the caller to replace (the extractive answer)."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from services.generator.app.prompt import PromptSource

_CITATION = re.compile(r"\[(\d+)\]")
# A sentence ends at . ! ? followed by space, unless what follows is its own citation ("... . [1]").
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?!\[\d+\])|(?<=\])\s+(?=[A-Z])|\n+")
_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    """a about after all also an and any are as at be because been but by can could did do does
    for from had has have he her his how i if in into is it its may more most no not of on or other
    our she so some such than that the their them then there these they this those to too was we
    were what when where which while who why will with would you your one only each every very
    just also used use uses using""".split()
)


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _terms(text: str) -> list[str]:
    return [_stem(word) for word in _WORD.findall(text.lower()) if word not in _STOPWORDS]


def content_terms(text: str) -> set[str]:
    return set(_terms(text))


def _pairs(terms: list[str]) -> set[tuple[str, str]]:
    return set(itertools.pairwise(terms))


def sentences(answer: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(answer.strip()) if part and part.strip()]


@dataclass(frozen=True)
class Verdict:
    answer: str  # the supported sentences, in order
    kept: int
    dropped: int


class GroundingGuard:
    def __init__(self, min_support: float) -> None:
        self._min_support = min_support

    def support(self, sentence: str, sources: list[PromptSource]) -> float:
        """In [0, 1]; 0 when the sentence cites no source of the prompt or says nothing checkable."""
        by_label = {source.label: source for source in sources}
        cited = [by_label[int(label)] for label in _CITATION.findall(sentence) if int(label) in by_label]
        terms = _terms(_CITATION.sub(" ", sentence))
        if not cited or not terms:
            return 0.0
        words: set[str] = set()
        pairs: set[tuple[str, str]] = set()
        for source in cited:
            evidence = _terms(source.scored.chunk.title) + _terms(source.scored.chunk.text)
            words |= set(evidence)
            pairs |= _pairs(evidence)
        word_share = len(set(terms) & words) / len(set(terms))
        claim_pairs = _pairs(terms)
        pair_share = len(claim_pairs & pairs) / len(claim_pairs) if claim_pairs else word_share
        return (word_share + pair_share) / 2

    def check(self, answer: str, sources: list[PromptSource]) -> Verdict:
        kept: list[str] = []
        seen: set[tuple[str, ...]] = set()
        parts = sentences(answer)
        for sentence in parts:
            claim = tuple(_terms(_CITATION.sub(" ", sentence)))
            if claim in seen:
                continue
            if not _CITATION.search(sentence) and sources:
                best = max(sources, key=lambda source: self.support(f"{sentence} [{source.label}]", [source]))
                sentence = _cite(sentence, best.label)
            if self.support(sentence, sources) >= self._min_support:
                kept.append(sentence)
                seen.add(claim)
        return Verdict(answer=" ".join(kept), kept=len(kept), dropped=len(parts) - len(kept))


def _cite(sentence: str, label: int) -> str:
    """ "It does X." -> "It does X [2]." (the marker before the closing punctuation)."""
    body = sentence.rstrip()
    end = len(body.rstrip(".!?"))
    return f"{body[:end]} [{label}]{body[end:]}"
