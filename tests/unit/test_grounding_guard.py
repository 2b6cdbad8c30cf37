from __future__ import annotations

import pytest

from ragmesh_kit.domain import Chunk, ScoredChunk
from ragmesh_kit.tokens import TokenCounter
from ragmesh_llm.options import OptionsError, StopScanner, parse_options
from services.generator.app.grounding import GroundingGuard, sentences
from services.generator.app.prompt import PromptBuilder

NULL_OP = 'The "pass" statement is a null operation: when it is executed, nothing happens.'
BREAK = "break terminates the nearest enclosing loop, skipping the optional else clause."


def _sources():
    chunks = [
        ScoredChunk(Chunk("p#0", "p", 0, 1, "pass", NULL_OP, {}), 0.9),
        ScoredChunk(Chunk("b#0", "b", 0, 1, "break", BREAK, {}), 0.8),
    ]
    return PromptBuilder(TokenCounter()).build("q", chunks, 1000).sources


def test_sentences_keep_their_citation_after_the_full_stop() -> None:
    assert sentences("Pass does nothing. [1] Break ends loops [2]. Then more") == [
        "Pass does nothing. [1]",
        "Break ends loops [2].",
        "Then more",
    ]


def test_a_supported_sentence_is_kept_and_an_invented_one_dropped() -> None:
    guard = GroundingGuard(0.6)
    answer = (
        "When pass is executed, nothing happens [1]. "
        "The pass statement was added by Guido in 1994 to speed up compilers [1]. "
        "Break terminates the nearest enclosing loop [2]."
    )
    verdict = guard.check(answer, _sources())
    assert (verdict.kept, verdict.dropped) == (2, 1)
    assert "1994" not in verdict.answer and "nothing happens [1]" in verdict.answer


def test_a_sentence_citing_the_wrong_or_no_source_is_unsupported() -> None:
    guard = GroundingGuard(0.6)
    assert guard.support("Break terminates the nearest enclosing loop [1].", _sources()) < 0.6
    assert guard.support("Break terminates the nearest enclosing loop [9].", _sources()) == 0.0
    assert guard.check("Break terminates the nearest enclosing loop [9].", _sources()).kept == 0
    assert guard.check("I don't know.", _sources()).kept == 0


def test_an_uncited_sentence_gets_the_source_that_supports_it() -> None:
    verdict = GroundingGuard(0.6).check("Break terminates the nearest enclosing loop. Pass makes coffee.", _sources())
    assert verdict.answer == "Break terminates the nearest enclosing loop [2]."
    assert (verdict.kept, verdict.dropped) == (1, 1)


def test_a_repeated_sentence_is_dropped() -> None:
    # SmolLM2-135M loops: "X is stored in F [3]. X is stored in F [3]."
    verdict = GroundingGuard(0.6).check(
        "When pass is executed, nothing happens [1]. When pass is executed, nothing happens. "
        "Break terminates the nearest enclosing loop [2].",
        _sources(),
    )
    assert verdict.answer == (
        "When pass is executed, nothing happens [1]. Break terminates the nearest enclosing loop [2]."
    )
    assert (verdict.kept, verdict.dropped) == (2, 1)


def test_sampling_parameters_are_checked_with_messages_that_name_the_key() -> None:
    options = parse_options('{"max_tokens": "5", "stop": "\\n", "temperature": 0.7, "top_p": 0.9, "seed": 3}')
    assert (options.max_tokens, options.stop, options.temperature, options.top_p, options.seed) == (
        5,
        ("\n",),
        0.7,
        0.9,
        3,
    )
    assert parse_options(None).temperature == 0.0
    for bad, key in [
        ('{"max_tokens": 0}', "max_tokens"),
        ('{"max_tokens": 1.5}', "max_tokens"),
        ('{"temperature": "hot"}', "temperature"),
        ('{"top_p": 2}', "top_p"),
        ('{"stop": [""]}', "stop"),
        ('{"ignore_eos": "maybe"}', "ignore_eos"),
        ("[1]", "JSON object"),
        ("{nope", "not valid JSON"),
    ]:
        with pytest.raises(OptionsError, match=key):
            parse_options(bad)


def test_stop_scanner_holds_back_a_possible_stop_string() -> None:
    scanner = StopScanner(("END",))
    assert scanner.feed("abc E") == "abc "
    assert scanner.feed("N") == ""
    assert scanner.feed("x") == "ENx"
    assert scanner.feed(" fooEN") == " foo"
    assert scanner.feed("D more") == "" and scanner.stopped
    assert scanner.text == "abc ENx foo"
