"""Units a reader accepts and the answers composed from them (ragmesh_answering), on hand-made
sources and on every question of the golden set with its document's chunks as the sources."""

from __future__ import annotations

import pytest

from bench.golden import Question, corpus, questions, quote_is_verbatim
from ragmesh_answering import extractive as ex
from ragmesh_kit.domain import Chunk, ScoredChunk
from ragmesh_kit.tokens import TokenCounter
from services.generator.app.citations import extract_citations, quotes
from services.generator.app.prompt import PromptBuilder
from services.indexer.app.chunker import Chunker, ChunkingPolicy
from tests.models.test_extractive import make_prompt

RST = """The "pass" statement
********************

   pass_stmt ::= "pass"

"pass" is a null operation — when it is executed, nothing happens. It
is useful as a placeholder when a statement is required syntactically,
but no code needs to be executed, for example:

   def f(arg): pass    # a function that does nothing (yet)

   class C: pass       # a class with no methods (yet)

Doctest
=======

   >>> f(1)
   ...
"""
MARKDOWN = """# Limits

## Table

| limit | default |
|---|---|
| top_k | 50 |

---

- first item
- second item
  wrapped here.

```bash
--top-k 5   # a flag
```

Options:

  -h, --help     show this help message
  --top-k N      how many chunks
"""


def test_markup_only_lines_are_never_units_and_headings_become_context() -> None:
    units = ex.split_units(RST) + ex.split_units(MARKDOWN)
    for unit in units:
        assert not ex.is_markup_only(unit.text), unit
        assert unit.text.strip() not in {"Doctest", "Limits", "Table", 'The "pass" statement'}
    by_text = {unit.text: unit for unit in units}
    assert by_text["| top_k | 50 |"].context == "Table | | limit | default |"
    assert by_text["| top_k | 50 |"].kind == "row"
    assert by_text[">>> f(1)"].context == "Doctest"
    assert (
        by_text['"pass" is a null operation — when it is executed, nothing happens.'].context == 'The "pass" statement'
    )


def test_items_options_and_code_lines_are_units_of_their_own_verbatim() -> None:
    units = [(u.kind, u.text) for u in ex.split_units(MARKDOWN) + ex.split_units(RST)]
    assert ("item", "- first item") in units
    assert ("item", "- second item wrapped here.") in units
    assert ("option", "-h, --help     show this help message") in units
    assert ("option", "--top-k N      how many chunks") in units
    assert ("code", "--top-k 5   # a flag") in units
    assert ("code", "def f(arg): pass    # a function that does nothing (yet)") in units
    assert ("code", ">>> f(1)") in units


def test_a_unit_ending_with_a_colon_brings_what_follows() -> None:
    prompt = make_prompt([("1", 'The "pass" statement', "doc-pass", RST)], "Show an example of pass as a placeholder")
    answer = ex.answer(prompt)
    # "It" leans on the sentence before it; "for example:" brings both code lines, not the doctest
    # under the next heading.
    assert answer == (
        '"pass" is a null operation — when it is executed, nothing happens. It is useful as a placeholder when a '
        "statement is required syntactically, but no code needs to be executed, for example:\n"
        "def f(arg): pass    # a function that does nothing (yet)\n"
        "class C: pass       # a class with no methods (yet) [1]"
    )


def test_best_unit_first_then_support_in_source_order() -> None:
    text = (
        "Kafka keeps records. Records live in partitions. Partitions are replicated. Topics hold partitions of records."
    )
    prompt = make_prompt([("1", "Kafka", "k", text)], "How are partitions of records replicated?")
    chosen = ex.select(ex.parse_prompt(prompt), 3, 0.3)
    assert chosen[0].text == "Partitions are replicated."
    answer = ex.answer(prompt)
    parts = [part.strip() for part in answer.split("[1]") if part.strip()]
    assert parts[0] == "Partitions are replicated."
    assert parts[1:] == sorted(parts[1:], key=text.index)


def test_near_duplicates_are_answered_once() -> None:
    # Two overlapping chunks of one document, the sentence once with a different ending.
    a = ("1", "t", "a", "The tower was completed in 1889 for the fair.")
    b = ("2", "t", "a", "The tower was completed in 1889 for the fair!")
    assert ex.answer(make_prompt([a, b], "When was the tower completed?")).count("1889") == 1


BREAK = (
    "1",
    'The "break" statement',
    "doc-break",
    'It terminates the nearest enclosing loop.\n\n"break" may only occur in a loop.',
)
CONTINUE = (
    "2",
    'The "continue" statement',
    "doc-continue",
    "It continues with the next cycle of the nearest enclosing loop.",
)


@pytest.mark.parametrize(
    "question", ["What does the break statement do to the nearest enclosing loop?", 'What does "break" do?']
)
def test_a_look_alike_document_about_another_identifier_never_joins(question: str) -> None:
    answer = ex.answer(make_prompt([CONTINUE, BREAK], question))
    assert "terminates the nearest enclosing loop" in answer
    assert "[2]" not in answer and "next cycle" not in answer


def test_a_look_alike_document_that_matches_more_words_does_not_answer() -> None:
    skip = ("2", 'The "continue" statement', "doc-continue", "It skips the rest of the loop body and goes on.")
    stop = ("1", 'The "break" statement', "doc-break", 'It ends the loop and skips its "else" clause.')
    answer = ex.answer(make_prompt([skip, stop], "Does the break statement skip the rest of the loop body?"))
    assert answer == 'It ends the loop and skips its "else" clause. [1]'


def test_a_row_about_a_look_alike_setting_stays_out() -> None:
    rows = "| setting | default |\n|---|---|\n| `GATEWAY_MAX_TOP_K` | 50 |\n| `RETRIEVER_MAX_TOP_K` | 100 |\n"
    answer = ex.answer(make_prompt([("1", "Limits", "limits", rows)], "What is the default of RETRIEVER_MAX_TOP_K?"))
    assert answer == "| `RETRIEVER_MAX_TOP_K` | 100 | [1]"


@pytest.mark.parametrize(
    "question", ["What does the match statement do?", "Which Python version removed the print statement?"]
)
def test_a_statement_no_source_is_about_is_not_known(question: str) -> None:
    sources = [BREAK, CONTINUE, ("3", 'The "try" statement', "doc-try", 'A matching "except" clause is executed.')]
    assert ex.answer(make_prompt(sources, question)) == ex.NO_ANSWER


def _golden_prompts() -> list[tuple[Question, str, list[ScoredChunk]]]:
    """Each golden question with its labelled document's chunks as the sources (unanswerable ones
    with the first document's), built as the generator service builds them."""
    documents = {d["document_id"]: d for d in corpus()}
    chunker = Chunker(TokenCounter(), ChunkingPolicy(200, 40))
    out = []
    for q in questions():
        document = documents[q.expected_document or "golden-pass"]
        chunks = [
            ScoredChunk(
                Chunk(f"{document['document_id']}#{i}", document["document_id"], i, 1, document["title"], text, {}),
                1.0 - i / 100,
            )
            for i, text in enumerate(chunker.split(document["text"]))
        ]
        out.append((q, document["text"], chunks))
    return out


def test_golden_answers_hold_no_markup_only_unit_and_quote_their_sources_verbatim() -> None:
    builder = PromptBuilder(TokenCounter())
    checked = 0
    for question, source_text, chunks in _golden_prompts():
        prompt = builder.build(question.question, chunks, 6000)
        answer = prompt.restore(ex.answer(prompt.text)).strip()
        parts = quotes(answer, {source.label: source for source in prompt.sources})
        assert parts or answer == ex.NO_ANSWER
        for _, quote in parts:  # every line of every quoted part says something
            assert quote and all(not ex.is_markup_only(line) for line in quote.split("\n")), (question.question, quote)
        for citation in extract_citations(answer, prompt.sources):
            assert quote_is_verbatim(citation.quote, source_text), (question.question, citation.quote)
            checked += 1
    assert checked >= 60


def test_sentences_leaning_on_the_ones_before_bring_them() -> None:
    text = (
        'The "global" statement is a declaration which holds for the entire current code block.  It means\n'
        "that the listed identifiers are to be interpreted as globals. It would be impossible to assign to\n"
        'a global variable without "global".\n\nNames listed must not be used before.'
    )
    sources = [BREAK, CONTINUE, ("3", 'The "global" statement', "g", text)]
    answer = ex.answer(make_prompt(sources, "What would be impossible without the global statement?"))
    # "It would be" leans on "It means", which leans on the sentence that says what "it" is.
    assert answer.startswith('The "global" statement is a declaration which holds for the entire current code block.')
    assert answer.endswith('It would be impossible to assign to a global variable without "global". [3]')
