"""The golden set's figures (bench.golden): what each counts, per category."""

from __future__ import annotations

from bench.golden import Outcome, Question, questions, quote_is_verbatim, summarize

FACT = Question("What does pass do?", "plain", "doc-pass", ("nothing happens",))
ROW = Question("Default top_k?", "list_table", "doc-limits", ("| 50 |",), ("doc-limits-copy",))
NONE = Question("Capital of Australia?", "unanswerable", None, ())
IDK = "I don't know: the provided sources do not answer this question."


def test_figures_per_category_and_overall() -> None:
    outcomes = [
        Outcome(
            FACT,
            "When executed, nothing  happens. [1]",
            ("doc-pass",),
            ("doc-x", "doc-pass"),
            context="nothing happens",
        ),
        Outcome(ROW, "| 60 | [1] | 50 | [2]", ("doc-limits-copy", "doc-other"), ("doc-a",) * 5 + ("doc-limits",)),
        Outcome(NONE, IDK, (), ("doc-pass",)),
        Outcome(NONE, "Canberra. [1]", ("doc-x",), ()),
    ]
    figures = summarize(outcomes)
    assert figures["plain"]["fact_in_answer"] == 1.0  # whitespace folded
    assert figures["plain"]["fact_in_context"] == 1.0
    assert figures["list_table"]["citation_precision"] == 0.5  # a copy that states the fact counts
    assert figures["list_table"]["recall_at_5"] == 0.0  # found at rank 6 only
    assert figures["unanswerable"]["idk_accuracy"] == 0.5
    assert figures["all"]["fact_in_answer"] == 1.0 and figures["all"]["false_idk"] == 0.0
    assert figures["all"]["questions"] == 4 and figures["identifier"]["questions"] == 0


def test_quotes_are_verbatim_line_by_line_in_source_order() -> None:
    source = "It is useful, for\nexample:\n\n   >>> f(1)\n   2\n"
    assert quote_is_verbatim("It is useful, for example:\n>>> f(1)\n2", source)
    assert not quote_is_verbatim("››› f(1)", source)  # an escaped doctest prompt
    assert not quote_is_verbatim(">>> f(1)\nIt is useful", source)  # out of order
    assert not quote_is_verbatim(">>>  f(1)", source)  # doctest lines exactly


def test_the_golden_set_is_big_enough_and_labelled() -> None:
    items = questions()
    assert len(items) >= 60
    assert sum(not q.answerable for q in items) >= 10
    assert {q.category for q in items} == {"plain", "list_table", "multi_sentence", "identifier", "unanswerable"}
    assert all(q.expected_facts for q in items if q.answerable)
