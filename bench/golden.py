"""The golden set (tests/data/golden): questions labelled with the document and the facts that answer
them, by category, and the figures that tell answer quality: fact-in-answer, citation precision,
recall@5 of the expected document, and "I don't know" accuracy on the questions the corpus cannot
answer. The stack test (tests/stack/test_query_golden.py) scores the real mesh with these functions;
`make bench` and ``python -m bench.golden`` score the same pipeline in-process."""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GOLDEN = Path(__file__).resolve().parents[1] / "tests" / "data" / "golden"
CATEGORIES = ("plain", "list_table", "multi_sentence", "identifier", "unanswerable")
NO_ANSWER_PREFIX = "I don't know"


def fold(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class Question:
    question: str
    category: str
    expected_document: str | None
    expected_facts: tuple[str, ...]
    also_documents: tuple[str, ...] = ()  # other documents that state the same facts

    @property
    def documents(self) -> frozenset[str]:
        named = (self.expected_document, *self.also_documents) if self.expected_document else ()
        return frozenset(named)

    @property
    def answerable(self) -> bool:
        return self.expected_document is not None


@dataclass(frozen=True)
class Outcome:
    """What the pipeline did with one question."""

    question: Question
    answer: str
    cited_documents: tuple[str, ...]
    top_documents: tuple[str, ...]  # retrieval's top 5, best first
    quotes: tuple[tuple[str, str], ...] = field(default=())  # (document id, quote) per citation
    context: str = ""  # the text of the chunks given to the generator

    @property
    def context_has_facts(self) -> bool:
        context = fold(self.context)
        return all(fold(fact) in context for fact in self.question.expected_facts)

    @property
    def said_idk(self) -> bool:
        return self.answer.startswith(NO_ANSWER_PREFIX)

    @property
    def facts_found(self) -> bool:
        answer = fold(self.answer)
        return all(fold(fact) in answer for fact in self.question.expected_facts)

    @property
    def retrieved(self) -> bool:
        return bool(self.question.documents & set(self.top_documents[:5]))


def structured_text(content: bytes, content_type: str) -> str:
    """What the indexer makes of a document held as a file: its sections in the chunker's layout
    (the text quotes come from)."""
    from services.indexer.adapters.parsers import document_parsers
    from services.indexer.app.structure import render_section

    document = document_parsers()[content_type].parse(content)
    return "\n\n".join(render_section(section) for section in document.sections)


def corpus() -> list[dict[str, Any]]:
    """The documents. Those held as files (``content_type``: the source in ``text``, or the bytes in
    ``content_base64``) also get ``content`` (the bytes to submit), and ``text`` becomes what the
    indexer parses out of them."""
    rows = [json.loads(line) for line in (GOLDEN / "corpus.jsonl").read_text().splitlines() if line.strip()]
    for row in rows:
        if "content_type" in row:
            row["content"] = (
                base64.b64decode(row.pop("content_base64")) if "content_base64" in row else row["text"].encode()
            )
            row["text"] = structured_text(row["content"], row["content_type"])
    return rows


def questions() -> list[Question]:
    return [
        Question(
            q["question"],
            q["category"],
            q["expected_document"],
            tuple(q["expected_facts"]),
            tuple(q.get("also_documents", ())),
        )
        for q in json.loads((GOLDEN / "questions.json").read_text())
    ]


def quote_is_verbatim(quote: str, source: str) -> bool:
    """A quote is one or more units, one per line (a sentence, or a unit and the list items or code
    lines it introduces): each occurs in the source, prose with its line wrapping folded, doctest
    lines exactly, in the source's order."""
    folded = fold(source)
    position = 0
    for line in quote.split("\n"):
        found = folded.find(fold(line), position)
        if found < 0 or (line.lstrip().startswith((">>>", "...")) and line not in source):
            return False
        position = found + len(fold(line))
    return True


def _ratio(hits: Sequence[bool]) -> float | None:
    return round(sum(hits) / len(hits), 3) if hits else None


def summarize(outcomes: Sequence[Outcome]) -> dict[str, dict[str, float | int | None]]:
    """Figures per category and over all: fact_in_answer (answerable: every labelled fact is in the
    answer), citation_precision (answerable: citations of the expected document among all
    citations), recall_at_5 (answerable: the expected document among retrieval's top 5),
    fact_in_context (answerable: the facts are in the chunks the generator was given: where
    retrieval found the document but not the passage),
    idk_accuracy (unanswerable: the answer is "I don't know"), false_idk (answerable: it is)."""
    groups: dict[str, list[Outcome]] = {category: [] for category in CATEGORIES}
    for outcome in outcomes:
        groups.setdefault(outcome.question.category, []).append(outcome)
    groups["all"] = list(outcomes)
    figures: dict[str, dict[str, float | int | None]] = {}
    for name, group in groups.items():
        answerable = [o for o in group if o.question.answerable]
        unanswerable = [o for o in group if not o.question.answerable]
        cited = [d in o.question.documents for o in answerable for d in o.cited_documents]
        figures[name] = {
            "questions": len(group),
            "fact_in_answer": _ratio([o.facts_found for o in answerable]),
            "citation_precision": _ratio(cited),
            "recall_at_5": _ratio([o.retrieved for o in answerable]),
            "fact_in_context": _ratio([o.context_has_facts for o in answerable if o.context]),
            "idk_accuracy": _ratio([o.said_idk for o in unanswerable]),
            "false_idk": _ratio([o.said_idk for o in answerable]),
        }
    return figures


def table(figures: dict[str, dict[str, float | int | None]], title: str) -> str:
    columns = (
        "questions",
        "fact_in_answer",
        "citation_precision",
        "recall_at_5",
        "fact_in_context",
        "idk_accuracy",
        "false_idk",
    )
    lines = [title, f"{'category':16}" + "".join(f"{c:>19}" for c in columns)]
    for name, row in figures.items():
        cells = "".join(f"{'-' if row[c] is None else row[c]!s:>19}" for c in columns)
        lines.append(f"{name:16}{cells}")
    return "\n".join(lines)


def misses(outcomes: Sequence[Outcome]) -> list[str]:
    out = []
    for o in outcomes:
        q = o.question
        if q.answerable and not (o.facts_found and set(o.cited_documents) <= q.documents):
            out.append(
                f"[{q.category}] {q.question!r} facts={o.facts_found} cited={o.cited_documents} {o.answer[:300]!r}"
            )
        if not q.answerable and not o.said_idk:
            out.append(f"[{q.category}] {q.question!r} should be IDK: {o.answer[:300]!r}")
    return out


# Retrieval modes the in-process scorer runs (GoldenPipeline.ask_golden knows each by name).
MODES = ("dense", "hybrid", "dense+rerank", "hybrid+rerank")


async def run_in_process(models_dir: Path, data_dir: Path, mode: str = "dense") -> list[Outcome]:
    from bench.pipeline import GoldenPipeline

    pipeline = await GoldenPipeline.build_titled(
        models_dir, {d["document_id"]: (d["title"], d["text"]) for d in corpus()}, data_dir
    )
    outcomes = []
    started = time.perf_counter()
    for q in questions():
        answer, citations, found = await pipeline.ask_golden(q.question, mode)
        outcomes.append(
            Outcome(
                q,
                answer,
                tuple(c.document_id for c in citations),
                tuple(item.chunk.document_id for item in found),
                tuple((c.document_id, c.quote) for c in citations),
                "\n\n".join(item.chunk.text for item in found),
            )
        )
    # The cost of a stage (reranking) per Ask, on the same machine and corpus as the figures.
    print(f"{mode}: {(time.perf_counter() - started) * 1000 / max(len(outcomes), 1):.1f} ms per question in-process")
    await pipeline.store.close()
    return outcomes


def run_modes(models_dir: Path, verbose: bool = False) -> dict[str, dict[str, dict[str, float | int | None]]]:
    """Figures of every retrieval mode, printed as they come (``make bench`` and ``python -m bench.golden``)."""
    figures = {}
    for mode in MODES:
        with tempfile.TemporaryDirectory() as data:
            outcomes = asyncio.run(run_in_process(models_dir, Path(data), mode))
        if verbose:
            print("\n".join(misses(outcomes)))
        figures[mode] = summarize(outcomes)
        print(table(figures[mode], f"golden set, in-process pipeline, {mode} retrieval"), flush=True)
    return figures


def markdown(figures: dict[str, dict[str, dict[str, float | int | None]]]) -> list[str]:
    """The golden figures as markdown tables for docs/benchmarks."""
    lines = ["## Answer quality (golden set, tests/data/golden)", ""]
    for mode, rows in figures.items():
        columns = list(next(iter(rows.values())).keys())
        lines += [
            f"{mode} retrieval:",
            "",
            "| category | " + " | ".join(columns) + " |",
            "|---" * (len(columns) + 1) + "|",
        ]
        lines += [
            f"| {name} | " + " | ".join("-" if row[c] is None else str(row[c]) for c in columns) + " |"
            for name, row in rows.items()
        ]
        lines.append("")
    return lines


def main() -> int:
    from ragmesh_devstack.settings import StackSettings

    run_modes(StackSettings().deps_dir / "models", verbose="-v" in sys.argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
