"""Chooses the units that answer the question and composes the answer.

Scoring: every unit of every source is scored against the question (lowercase stemmed terms,
stopwords removed, plus the identifiers the question names). Score = IDF-weighted fraction of the
question's terms that the unit holds; a term found only in the unit's context (the source title and
the heading above the unit) counts half, so a unit under "The \"break\" statement" speaks of break
without repeating it. IDF is over all units of the prompt, so a term absent everywhere weighs most
and a question the sources do not address scores low everywhere.

Composition:
- sources about another identifier than the one the question names never contribute, nor do
  units that name a look-alike identifier instead of the named one;
- the best unit comes first, then up to ``max_sentences - 1`` supporting units, those of the best
  unit's source in source order, then those of other sources that speak of the same subject;
- a unit that leads into what follows (ends with ":" or introduces code) brings the units that
  follow it in its block (a list, a code block, a doctest);
- near-duplicates (overlapping chunks, copies) are answered once;
- when no unit reaches ``relevance_threshold`` the answer is ``NO_ANSWER``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from ragmesh_answering.prompt_format import Prompt, Source
from ragmesh_answering.subjects import (
    code_forms,
    code_identifiers,
    look_alike,
    marker_words,
    question_identifiers,
    title_subjects,
)
from ragmesh_answering.terms import stem, terms
from ragmesh_answering.units import Unit, split_units

NO_ANSWER = "I don't know: the provided sources do not answer this question."

# A supporting unit must score at least this share of the best unit's score.
SUPPORT_RATIO = 0.5
# A code line is rarely the answer on its own: it comes along with the prose that introduces it.
CODE_WEIGHT = 0.5
MAX_ANTECEDENTS = 2
# Sentences that lean on the one before ("It terminates ...") bring it along.
_ANAPHORA = ("it ", "this ", "these ", "they ", "such ", "that ", "its ", "their ")
_CONTINUES = (
    "thus",
    "so ",
    "otherwise",
    "however",
    "then ",
    "this means",
    "in particular",
    "for example",
    "for instance",
)
# At most this many units follow a unit that leads into them (a list, a code block).
MAX_FOLLOWING = 10
# Units whose term sets overlap this much (Jaccard) say the same thing.
NEAR_DUPLICATE = 0.8
CONTEXT_WEIGHT = 0.5
OTHER_IDENTIFIER_PENALTY = 0.1


@dataclass(frozen=True)
class Candidate:
    source: Source
    source_index: int
    position: int  # index of the unit among its source's units
    unit: Unit
    units: tuple[Unit, ...]  # all units of its source, for what comes before and after it
    words: frozenset[str]  # the unit's terms
    context_words: frozenset[str]  # the terms of its title and heading
    subjects: frozenset[str]  # identifiers the title and heading above the unit are about


@dataclass(frozen=True)
class Scored:
    score: float
    candidate: Candidate

    @property
    def source(self) -> str:
        return self.candidate.source.label

    @property
    def text(self) -> str:
        return self.candidate.unit.text


@dataclass(frozen=True)
class Part:
    """One cited group of the answer: a unit and the units it brings along."""

    source: str
    units: tuple[Unit, ...]

    @property
    def text(self) -> str:
        out = self.units[0].text
        for unit in self.units[1:]:
            out += ("\n" if unit.kind in ("code", "row") or unit.kind != self.units[0].kind else " ") + unit.text
        return out


def _ids(text: str) -> frozenset[str]:
    return frozenset(f"id:{identifier}" for identifier in code_identifiers(text))


@lru_cache(maxsize=4096)
def _context_ids(context: str) -> frozenset[str]:
    return _ids(context)


@lru_cache(maxsize=4096)
def _context_terms(context: str) -> frozenset[str]:
    return frozenset(terms(context))


@lru_cache(maxsize=16384)
def _unit_terms(text: str) -> frozenset[str]:
    return frozenset(terms(text))


@lru_cache(maxsize=4096)
def _subjects(title: str, heading: str) -> frozenset[str]:
    return title_subjects(title) | title_subjects(heading)


def candidates(prompt: Prompt) -> list[Candidate]:
    """Every unit of every source once (overlapping chunks repeat text), in source order."""
    found: list[Candidate] = []
    seen: set[str] = set()
    for index, source in enumerate(prompt.sources):
        units = split_units(source.text)
        for position, unit in enumerate(units):
            key = " ".join(unit.text.lower().split())
            if key in seen:
                continue  # the same text from an overlapping chunk or a copy
            seen.add(key)
            found.append(
                Candidate(
                    source,
                    index,
                    position,
                    unit,
                    units,
                    _unit_terms(unit.text),
                    _context_terms(f"{source.title}\n{unit.context}"),
                    _subjects(source.title, unit.context),
                )
            )
    return found


def question_terms(question: str, about: frozenset[str], named: frozenset[str]) -> set[str]:
    """The question's terms and named identifiers; "statement" in "the break statement" only says
    what kind of name "break" is, so it is not a term when the question names what it is about."""
    # A named identifier is matched as one ("id:break"), not also as a word.
    q_terms = (set(terms(question)) - {stem(identifier) for identifier in named}) | {f"id:{i}" for i in named}
    if about:
        q_terms -= {stem(word) for word in marker_words()}
    return q_terms


def _named_in(c: Candidate, named: frozenset[str]) -> frozenset[str]:
    """The named identifiers a unit holds: written in it (code form or quoted), or the subject of
    its title or heading."""
    lowered = c.unit.text.lower()
    present = [n for n in named if n in lowered]
    written = code_identifiers(c.unit.text) & frozenset(present) if present else frozenset()
    # A plain-word name ("pass", "break") in prose counts too, as a whole word: sources do not
    # always mark it up as code.
    plain = frozenset(n for n in present if n.isalpha() and re.search(rf"(?<![\w.]){re.escape(n)}(?![\w(.])", lowered))
    return frozenset(f"id:{n}" for n in written | plain | (c.subjects & named))


def score(
    question: str, found: list[Candidate], named: frozenset[str], about: frozenset[str] = frozenset()
) -> list[Scored]:
    """IDF-weighted share of the question's terms in each unit (context terms count half; a
    unit under a heading about a named identifier holds that identifier). When the question names
    identifiers, a unit that names many others says less about each: it weighs less."""
    q_terms = question_terms(question, about, named)
    if not q_terms or not found:
        return [Scored(0.0, c) for c in found]
    named_ids = {t for t in q_terms if t.startswith("id:")}
    bags = []
    for c in found:
        context = c.context_words
        if named_ids:
            context = context | (named_ids & _context_ids(f"{c.source.title}\n{c.unit.context}"))
        bags.append((c.words | _named_in(c, named) if named else c.words, context))
    n = len(found)
    df = {t: sum(1 for bag, context in bags if t in bag or t in context) for t in q_terms}
    idf = {t: math.log((n + 1) / (df[t] + 1)) + 1.0 for t in q_terms}
    total = sum(idf.values())
    out = []
    for c, (bag, context) in zip(found, bags, strict=True):
        own = sum(idf[t] for t in q_terms & bag)
        if not own:  # a unit must itself say something the question asks: its heading alone is no answer
            out.append(Scored(0.0, c))
            continue
        from_context = sum(idf[t] for t in (q_terms & context) - bag)
        weight = CODE_WEIGHT if c.unit.kind == "code" else 1.0
        if named:
            weight /= 1.0 + OTHER_IDENTIFIER_PENALTY * len(code_forms(c.unit.text) - named)
        out.append(Scored(weight * (own + CONTEXT_WEIGHT * from_context) / total, c))
    return out


def _allowed(c: Candidate, named: frozenset[str], about: frozenset[str]) -> bool:
    if about and c.subjects and not c.subjects & named:
        return False  # a look-alike document (or section) about another identifier
    return not look_alike(code_identifiers(c.unit.text) | code_identifiers(c.unit.context), named)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def select(prompt: Prompt, max_sentences: int, relevance_threshold: float) -> list[Scored]:
    """The chosen units, best first (ties: source order, then position)."""
    found = candidates(prompt)
    every_subject = frozenset().union(*(c.subjects for c in found))
    named, about = question_identifiers(prompt.question, every_subject)
    scored = [s for s in score(prompt.question, found, named, about) if s.score > 0 and s.score >= relevance_threshold]
    # Ties: the document retrieved first, then the text that comes first in it (a document's
    # opening says what its subject is, which is what "what does X do?" asks).
    first_seen: dict[str, int] = {}
    for index, source in enumerate(prompt.sources):
        first_seen.setdefault(source.document, index)
    ranked = sorted(
        (s for s in scored if _allowed(s.candidate, named, about)),
        key=lambda s: (
            -round(s.score, 9),
            first_seen[s.candidate.source.document],
            s.candidate.source.chunk,
            s.candidate.source_index,
            s.candidate.position,
        ),
    )
    if not ranked or max_sentences < 1:
        return []
    best = ranked[0]
    chosen = [best]
    best_subjects = best.candidate.subjects
    for s in ranked[1:]:
        if len(chosen) >= max_sentences or s.score < SUPPORT_RATIO * best.score:
            break
        if s.candidate.unit.kind == "code":
            continue
        same_document = s.candidate.source.document == best.candidate.source.document
        same_subject = bool(s.candidate.subjects & best_subjects)
        if not (same_document or same_subject):
            continue
        if any(_jaccard(s.candidate.words, other.candidate.words) >= NEAR_DUPLICATE for other in chosen):
            continue
        chosen.append(s)
    return chosen


def _continues(unit: Unit, following: Unit) -> bool:
    """The next sentence of the paragraph carries on the chosen one: it opens with a pronoun or a
    connective, or names the same quoted identifier."""
    if following.block != unit.block or following.kind != unit.kind or unit.kind == "code":
        return False
    if following.text.lower().startswith(_CONTINUES):
        return True
    return bool(code_identifiers(unit.text) & code_identifiers(following.text))


def _preceding(units: list[Unit], position: int) -> tuple[Unit, ...]:
    """The sentences a chosen one leans on ("It terminates the loop" needs what "it" is), back
    through a chain of them ("... is a declaration. It means ... It would be ...")."""
    out: list[Unit] = []
    while position > 0 and len(out) < MAX_ANTECEDENTS and units[position].text.lower().startswith(_ANAPHORA):
        before = units[position - 1]
        if before.block != units[position].block or before.kind != units[position].kind:
            break
        out.insert(0, before)
        position -= 1
    return tuple(out)


def _following(units: list[Unit], position: int) -> tuple[Unit, ...]:
    """The units a chosen unit brings: what it leads into (the next block's units of one kind: a
    list, a code block), or the sentence that carries it on."""
    lead = units[position]
    if not lead.leads:
        if position + 1 < len(units) and _continues(lead, units[position + 1]):
            return (units[position + 1], *_following(units, position + 1))
        return ()
    out: list[Unit] = []
    kind = ""
    for unit in units[position + 1 :]:
        if unit.context != lead.context or len(out) >= MAX_FOLLOWING:
            break
        if not kind:
            kind = unit.kind
        elif unit.kind != kind or (kind == "sentence" and unit.block != out[-1].block):
            break
        out.append(unit)
        if kind == "sentence" and not unit.leads:
            break  # prose after a colon: the sentence that completes it
    end = position + len(out) + 1
    if kind == "code" and end < len(units) and len(out) < MAX_FOLLOWING:
        after = units[end]
        if after.kind == "sentence" and after.text[:1].islower() and after.context == lead.context:
            # "the yield statements <code> are equivalent to <code>": the sentence goes on after the code
            out += [after, *_following(units, end)]
    return tuple(out[: 2 * MAX_FOLLOWING])


def compose(prompt: Prompt, chosen: list[Scored]) -> list[Part]:
    """The best unit first, then the support in source order (by source, then position)."""
    if not chosen:
        return []
    support = sorted(chosen[1:], key=lambda s: (s.candidate.source_index, s.candidate.position))
    parts: list[Part] = []
    used: set[tuple[int, int]] = set()
    for s in [chosen[0], *support]:
        c = s.candidate
        if (c.source_index, c.position) in used:
            continue
        units = list(c.units)
        preceding = _preceding(units, c.position)
        while preceding and (c.source_index, c.position - len(preceding)) in used:
            preceding = preceding[1:]  # already in the answer
        following = _following(units, c.position)
        for offset in range(-len(preceding), len(following) + 1):
            used.add((c.source_index, c.position + offset))
        parts.append(Part(c.source.label, (*preceding, c.unit, *following)))
    return parts


def format_answer(parts: list[Part]) -> str:
    if not parts:
        return NO_ANSWER
    return " ".join(f"{part.text} [{part.source}]" for part in parts)
