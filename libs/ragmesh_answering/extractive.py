"""Extractive, grounded "generation" for the ragmesh generator model (pure Python, no Triton imports).

``answer()`` parses the prompt the generator service builds (``ragmesh_answering.prompt_format``),
splits every source into units a reader would quote (``ragmesh_answering.units``: sentences, list
items, table rows, code lines; headings become context, markup never), scores them against the
question and composes the answer (``ragmesh_answering.compose``): the best unit first, then
support, each group verbatim and followed by `` [n]`` where n is the source label. When nothing
passes the threshold it returns ``NO_ANSWER``.

This module is the surface the Triton model (model.py) and the benchmarks import; the parts live in
the other modules of this package.
"""

from __future__ import annotations

from ragmesh_answering.compose import NO_ANSWER, Part, Scored, compose, format_answer, select
from ragmesh_answering.options import (
    DEFAULT_MAX_SENTENCES,
    DEFAULT_RELEVANCE_THRESHOLD,
    OptionsError,
    parse_sampling_parameters,
)
from ragmesh_answering.prompt_format import Prompt, Source, parse_prompt
from ragmesh_answering.sentences import split_sentences
from ragmesh_answering.streaming import answer_pieces, group_by_sentence, pieces
from ragmesh_answering.terms import STOPWORDS, stem, terms
from ragmesh_answering.units import Unit, is_markup_only, split_units

__all__ = [
    "DEFAULT_MAX_SENTENCES",
    "DEFAULT_RELEVANCE_THRESHOLD",
    "NO_ANSWER",
    "STOPWORDS",
    "OptionsError",
    "Part",
    "Prompt",
    "Scored",
    "Source",
    "Unit",
    "answer",
    "answer_pieces",
    "compose",
    "format_answer",
    "group_by_sentence",
    "is_markup_only",
    "parse_prompt",
    "parse_sampling_parameters",
    "pieces",
    "select",
    "split_sentences",
    "split_units",
    "stem",
    "terms",
]


def answer(
    prompt: str,
    max_sentences: int = DEFAULT_MAX_SENTENCES,
    relevance_threshold: float = DEFAULT_RELEVANCE_THRESHOLD,
) -> str:
    parsed = parse_prompt(prompt)
    return format_answer(compose(parsed, select(parsed, max_sentences, relevance_threshold)))
