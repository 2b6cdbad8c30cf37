"""Identifiers: what a question names and what a source is about.

Look-alike documents (the "break" and the "continue" statement; two settings that differ by a
prefix) share most of their words; what tells them apart is the identifier. A source's subject is
the identifiers its title quotes ("The \"while\" statement" is about ``while``). A question names an
identifier when it writes one in code form (``RETRIEVER_MAX_TOP_K``, ``m.__func__``, ``--top-k``,
``f()``, quoted or backticked words) or says a word that is some source's subject; a subject that is
also an everyday word ("with", "for", "if") counts only when quoted or followed by a word such as
"statement", "loop" or "clause".
"""

from __future__ import annotations

import re
from functools import lru_cache

from ragmesh_answering.terms import STOPWORDS

_QUOTED = re.compile(r"[\"`“']([A-Za-z_][\w.*]*(?:\(\))?)[\"`”']")
_CODE = re.compile(r"<?[A-Za-z_][\w<>]*(?:(?:_|\.|-)[\w<>]+)+(?:\(\))?|--?[a-z][\w-]+|\b\w+\(\)")
_WORD = re.compile(r"[a-z_][a-z0-9_*]*")
# Words that come before "statement" and the like without naming one ("the first statement").
_NOT_NAMES = frozenset(
    STOPWORDS | {"first", "last", "next", "previous", "following", "whole", "compound", "simple", "new"}
)
_MARKERS = ("statement", "statements", "loop", "loops", "clause", "clauses", "keyword", "operator", "expression")


def _norm(identifier: str) -> str:
    return identifier.lower().strip("`\"'“”").removesuffix("()")


def title_subjects(title: str) -> frozenset[str]:
    return frozenset(_norm(m) for m in _QUOTED.findall(title))


# Cached like split_units: the units of popular chunks come back question after question.
@lru_cache(maxsize=16384)
def code_forms(text: str) -> frozenset[str]:
    """Identifiers written in code form only (``_``, ``.``, ``-`` inside, ``--flag``, ``f()``)."""
    found = {_norm(m) for m in _CODE.findall(text) if any(c in m for c in "_.()") or m.startswith("-") or m.isupper()}
    return frozenset(word for word in found if len(word) > 1)


@lru_cache(maxsize=16384)
def code_identifiers(text: str) -> frozenset[str]:
    """Identifiers written in code form (with ``_``, ``.``, ``-`` inside, ``--flag``, ``f()``), and
    quoted words."""
    quoted = {_norm(m) for m in _QUOTED.findall(text)}
    return code_forms(text) | frozenset(word for word in quoted if len(word) > 1)


def question_identifiers(question: str, subjects: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
    """The identifiers a question names (code forms, words that are a source's subject, a word
    before "statement", "loop", "clause"...), and among them the statement-like ones, which say
    what the question is about."""
    named = set(code_identifiers(question))
    about: set[str] = set()
    words = _WORD.findall(question.lower())
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else ""
        if following in _MARKERS and (word in subjects or word not in _NOT_NAMES):
            named.add(word)
            about.add(word)
            continue
        if word not in subjects:
            continue
        if any(after in _MARKERS for after in words):
            continue  # "the walrus operator return": the name is the marked one, "return" a verb
        quoted = re.search(rf"[\"`“']{re.escape(word)}[\"`”']", question.lower()) is not None
        if word not in STOPWORDS or quoted:
            named.add(word)
            about.add(word)
    return frozenset(named), frozenset(about)


def marker_words() -> frozenset[str]:
    return frozenset(_MARKERS)


def _parts(identifier: str) -> frozenset[str]:
    return frozenset(part for part in re.split(r"[_.\-<>()]+", identifier) if len(part) > 1)


def look_alike(unit_identifiers: frozenset[str], named: frozenset[str]) -> bool:
    """True when a unit names an identifier that shares parts with one the question names, but not
    the named one itself: ``GATEWAY_MAX_TOP_K`` when the question asks about ``RETRIEVER_MAX_TOP_K``."""
    if not named or named & unit_identifiers:
        return False
    return any(
        _parts(mine) & _parts(theirs) and mine != theirs
        for mine in unit_identifiers
        for theirs in named
        if len(_parts(theirs)) > 1
    )
