"""Unit tests of the generator model's extractive logic (the ragmesh_answering package in libs/)."""

from __future__ import annotations

import json

import pytest

from ragmesh_answering import extractive as ex


def make_prompt(sources, question, instructions="Answer only from the sources. Cite them as [n]."):
    """Build the prompt exactly as the generator service does. sources: [(label, title, doc, text)]."""
    parts = [instructions, ""]
    for label, title, doc, text in sources:
        parts += [f"<<<SOURCE {label}>>>", f"title: {title}", f"document: {doc}", text, "<<<END SOURCE>>>", ""]
    parts += ["<<<QUESTION>>>", question, "<<<ANSWER>>>"]
    return "\n".join(parts) + "\n"


EIFFEL = (
    "1",
    "Eiffel Tower",
    "doc-eiffel",
    "The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris.\n"
    "The tower was completed in 1889 as the entrance arch to the 1889 World's Fair.\n"
    "It is named after the engineer Gustave Eiffel.",
)
KAFKA = (
    "2",
    "Apache Kafka",
    "doc-kafka",
    "Kafka stores streams of records durably and in order. Topics are split into partitions.\n"
    "Consumers read records from partitions at their own pace.",
)
COFFEE = (
    "3",
    "Coffee",
    "doc-coffee",
    "Coffee originated in Ethiopia. It spread to Yemen in the 15th century.",
)


# --- parsing -----------------------------------------------------------------------------------------


def test_parse_prompt_sources_metadata_and_question():
    p = ex.parse_prompt(make_prompt([EIFFEL, KAFKA], "When was the tower completed?"))
    assert p.instructions == "Answer only from the sources. Cite them as [n]."
    assert [s.label for s in p.sources] == ["1", "2"]
    assert p.sources[0].title == "Eiffel Tower"
    assert p.sources[0].document == "doc-eiffel"
    # metadata lines are not part of the text
    assert not p.sources[0].text.startswith("title:")
    assert "document:" not in p.sources[0].text
    assert p.sources[0].text.splitlines()[0].startswith("The Eiffel Tower is")
    assert p.sources[1].text.endswith("at their own pace.")
    assert p.question == "When was the tower completed?"


def test_parse_prompt_multiline_instructions_crlf_and_multiline_question():
    prompt = make_prompt([KAFKA], "How does Kafka store\nrecords?", instructions="Line one.\nLine two.")
    p = ex.parse_prompt(prompt.replace("\n", "\r\n"))
    assert p.instructions == "Line one.\nLine two."
    assert len(p.sources) == 1 and p.sources[0].title == "Apache Kafka"
    assert p.question == "How does Kafka store\nrecords?"
    assert "\r" not in p.sources[0].text


def test_parse_prompt_metadata_order_and_missing_metadata():
    prompt = (
        "Instr.\n\n<<<SOURCE 4>>>\ndocument: d4\ntitle: T4\nBody line.\n<<<END SOURCE>>>\n\n"
        "<<<SOURCE 5>>>\nNo metadata here, title: is not a header.\n<<<END SOURCE>>>\n\n"
        "<<<QUESTION>>>\nq?\n<<<ANSWER>>>"
    )
    p = ex.parse_prompt(prompt)
    assert [(s.label, s.title, s.document, s.text) for s in p.sources] == [
        ("4", "T4", "d4", "Body line."),
        ("5", "", "", "No metadata here, title: is not a header."),
    ]


def test_parse_prompt_without_markers_is_all_question():
    p = ex.parse_prompt("What is Kafka?")
    assert p.sources == [] and p.question == "What is Kafka?" and p.instructions == ""
    assert ex.answer("What is Kafka?") == ex.NO_ANSWER


def test_split_sentences_abbreviations_and_bold_labels():
    text = "Dr. Smith wrote the report, e.g. the part on Kafka. It was long! **Note.** Read it."
    assert ex.split_sentences(text) == [
        "Dr. Smith wrote the report, e.g. the part on Kafka.",
        "It was long!",
        "**Note.** Read it.",
    ]


def test_units_of_prose_lists_and_wrapped_lines():
    text = (
        "This sentence is wrapped\nacross two lines. A second one.\n\n"
        "- first item\n- second item\n  wrapped.\n1. numbered item"
    )
    assert [(u.text, u.kind) for u in ex.split_units(text)] == [
        ("This sentence is wrapped across two lines.", "sentence"),
        ("A second one.", "sentence"),
        ("- first item", "item"),
        ("- second item wrapped.", "item"),
        ("1. numbered item", "item"),
    ]


def test_stemming_joins_word_forms():
    assert len({ex.stem(w) for w in ("store", "stores", "stored", "storing")}) == 1
    assert ex.stem("partitions") == ex.stem("partition")
    assert ex.stem("policies") == ex.stem("policy")
    assert ex.stem("running") == ex.stem("runs")
    assert ex.terms("What is the capital of the country?") == [ex.stem("capital"), ex.stem("country")]


# --- ranking -----------------------------------------------------------------------------------------


def test_ranking_puts_the_sentence_with_the_fact_first():
    prompt = make_prompt([KAFKA, EIFFEL, COFFEE], "In which year was the Eiffel Tower completed?")
    chosen = ex.select(ex.parse_prompt(prompt), max_sentences=3, relevance_threshold=0.2)
    assert chosen[0].text == "The tower was completed in 1889 as the entrance arch to the 1889 World's Fair."
    assert chosen[0].source == "1"
    assert all(0.0 <= c.score <= 1.0 for c in chosen)
    assert [c.score for c in chosen] == sorted((c.score for c in chosen), reverse=True)
    # nothing from the unrelated sources
    assert {c.source for c in chosen} == {"1"}


def test_ranking_other_source_and_citation_marker():
    prompt = make_prompt([EIFFEL, KAFKA, COFFEE], "Where did coffee originate?")
    out = ex.answer(prompt)
    assert out.startswith("Coffee originated in Ethiopia. [3]")
    assert "[1]" not in out and "[2]" not in out


def test_idf_weighting_prefers_rare_question_terms():
    # "kafka" occurs in every sentence, "partitions" in one: the sentence with the rare term wins.
    src = ("1", "t", "d", "Kafka is fast. Kafka is popular. Kafka splits topics into partitions.")
    chosen = ex.select(ex.parse_prompt(make_prompt([src], "How does Kafka use partitions?")), 3, 0.0)
    assert chosen[0].text == "Kafka splits topics into partitions."
    assert chosen[0].score == pytest.approx(1.0)
    assert all(s.score < 0.5 for s in chosen[1:])


def test_answer_is_verbatim_and_weak_support_stays_out():
    prompt = make_prompt([EIFFEL, KAFKA], "How do consumers read records from Kafka partitions?")
    # "Kafka stores streams of records ..." holds two of the four terms: under half the best unit's score.
    assert ex.answer(prompt, max_sentences=2) == "Consumers read records from partitions at their own pace. [2]"


def test_citation_uses_the_source_label_not_the_position():
    src = ("7", "Coffee", "doc-c", "Coffee originated in Ethiopia.")
    out = ex.answer(make_prompt([KAFKA, src], "Where did coffee originate?"))
    assert out == "Coffee originated in Ethiopia. [7]"


def test_max_sentences_caps_the_answer():
    prompt = make_prompt([KAFKA], "How does Kafka store records in topics and partitions for consumers?")
    assert len(ex.select(ex.parse_prompt(prompt), 3, 0.2)) == 3
    chosen = ex.select(ex.parse_prompt(prompt), 1, 0.2)
    assert len(chosen) == 1
    assert ex.answer(prompt, max_sentences=1).count("[2]") == 1


def test_unrelated_question_says_i_dont_know():
    prompt = make_prompt([EIFFEL, KAFKA, COFFEE], "What is the boiling point of mercury?")
    assert ex.answer(prompt) == ex.NO_ANSWER
    assert ex.NO_ANSWER == "I don't know: the provided sources do not answer this question."


def test_threshold_controls_i_dont_know():
    # one of four question terms matches (weakly): passes a low threshold, fails a high one
    prompt = make_prompt([EIFFEL], "Which engineer designed the Brooklyn bridge cables?")
    low = ex.answer(prompt, relevance_threshold=0.05)
    # "It" leans on the sentence before: both come, in source order, with one citation.
    assert low.startswith("The tower was completed in 1889 as the entrance arch to the 1889 World's Fair. It is named")
    assert ex.answer(prompt, relevance_threshold=0.9) == ex.NO_ANSWER


def test_metadata_is_not_a_candidate_sentence():
    src = ("1", "Volcanoes of Iceland", "volcano-doc", "Bananas are rich in potassium.")
    assert ex.answer(make_prompt([src], "Which volcanoes are in Iceland?")) == ex.NO_ANSWER


def test_no_sources_or_stopword_question_says_i_dont_know():
    assert ex.answer(make_prompt([], "When was the Eiffel Tower completed?")) == ex.NO_ANSWER
    assert ex.answer(make_prompt([EIFFEL], "What is it?")) == ex.NO_ANSWER


def test_duplicate_sentences_are_answered_once():
    dup = ("2", "copy", "doc-copy", EIFFEL[3])
    out = ex.answer(make_prompt([EIFFEL, dup], "When was the tower completed?"), max_sentences=3)
    assert out.count("completed in 1889") == 1
    assert "completed in 1889 as the entrance arch to the 1889 World's Fair. [1]" in out


# --- streaming pieces and options -------------------------------------------------------------------


@pytest.mark.parametrize("text", ["Coffee originated in Ethiopia. [3]", ex.NO_ANSWER, "one", "a  b\tc ", ""])
def test_pieces_concatenate_to_the_text(text):
    parts = ex.pieces(text)
    assert "".join(parts) == text
    if text.strip():
        assert len(parts) == len(text.split())


def test_pieces_are_words_with_leading_space():
    assert ex.pieces("Coffee originated in Ethiopia. [3]") == ["Coffee", " originated", " in", " Ethiopia.", " [3]"]


def test_word_pieces_regroup_into_one_piece_per_cited_sentence():
    text = "Coffee originated in Ethiopia. [3] It spread to Yemen. [1]"
    groups = ex.group_by_sentence(ex.pieces(text))
    assert groups == ["Coffee originated in Ethiopia. [3]", " It spread to Yemen. [1]"]
    assert "".join(groups) == text
    assert ex.group_by_sentence(ex.pieces("cut short by max_tokens")) == ["cut short by max_tokens"]


def test_sampling_parameters_defaults_and_values():
    assert ex.parse_sampling_parameters(None) == {
        "max_tokens": None,
        "max_sentences": 3,
        "relevance_threshold": 0.3,
        "piece_delay_ms": 0.0,
        "piece_granularity": "sentence",
    }
    got = ex.parse_sampling_parameters(
        json.dumps(
            {
                "max_tokens": 5,
                "max_sentences": "2",
                "relevance_threshold": 0.5,
                "piece_delay_ms": 10,
                "piece_granularity": "word",
                "temperature": 0.7,
                "top_p": 0.9,
            }
        )
    )
    assert got == {
        "max_tokens": 5,
        "max_sentences": 2,
        "relevance_threshold": 0.5,
        "piece_delay_ms": 10.0,
        "piece_granularity": "word",
    }
    assert ex.parse_sampling_parameters(b"", {"piece_delay_ms": 25.0})["piece_delay_ms"] == 25.0


@pytest.mark.parametrize(
    "raw, needle",
    [
        ("{max_tokens: 3", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"max_tokens": 0}', "max_tokens must be >= 1"),
        ('{"max_tokens": "many"}', "max_tokens must be an integer"),
        ('{"max_tokens": 2.5}', "max_tokens must be an integer"),
        ('{"max_sentences": true}', "max_sentences must be a number"),
        ('{"relevance_threshold": 1.5}', "relevance_threshold must be <= 1"),
        ('{"piece_delay_ms": -1}', "piece_delay_ms must be >= 0"),
        ('{"piece_granularity": "token"}', "piece_granularity must be"),
        (b"\xff", "not valid UTF-8"),
    ],
)
def test_sampling_parameters_errors(raw, needle):
    with pytest.raises(ex.OptionsError, match=needle):
        ex.parse_sampling_parameters(raw)
