"""Writes corpus.jsonl: CPython's reference topics (pydoc_data, plain text with rst-style headings,
grammar and doctest blocks) and pages of this project's docs (markdown: headings, lists, tables,
code fences), each verbatim. Run with CPython 3.11.7 from the repository root to reproduce the file;
the pages are frozen here so that later edits of docs/ do not move the golden set."""

from __future__ import annotations

import base64
import json
import platform
import subprocess
from pathlib import Path
from pydoc_data.topics import topics

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
TOPICS = {
    "pass": 'The "pass" statement',
    "break": 'The "break" statement',
    "continue": 'The "continue" statement',
    "global": 'The "global" statement',
    "nonlocal": 'The "nonlocal" statement',
    "del": 'The "del" statement',
    "return": 'The "return" statement',
    "assert": 'The "assert" statement',
    "lambda": "Lambdas",
    "yield": 'The "yield" statement',
    "if": 'The "if" statement',
    "while": 'The "while" statement',
    "for": 'The "for" statement',
    "with": 'The "with" statement',
    "raise": 'The "raise" statement',
    "try": 'The "try" statement',
    "booleans": "Boolean operations",
    "typesmethods": "Methods",
}
PAGES = {
    "limits": "Declared limits",
    "kafka-producers": "Publishing documents to ragmesh through Kafka",
    "sre-guide": "SRE guide: reading ragmesh",
    "security": "Security",
    "add-a-service": "Adding a service: checklist",
}


def file_rows() -> list[dict[str, str]]:
    """Documents as users hold them (ragmesh_devstack.sample_documents): a markdown handbook and an
    HTML page as their source text, a two-page PDF as base64; the indexer parses each by its
    content type."""
    from ragmesh_devstack.sample_documents import FAQ_HTML, HANDBOOK_MARKDOWN, manual_pdf

    source = "ragmesh_devstack.sample_documents"
    files = [
        ("golden-file-handbook", "Orbital Kettle Handbook", "HANDBOOK_MARKDOWN", "text/markdown", HANDBOOK_MARKDOWN),
        ("golden-file-faq", "Lantern Relay FAQ", "FAQ_HTML", "text/html", FAQ_HTML),
    ]
    rows = [
        {"document_id": i, "title": t, "source": f"{source}.{name}", "content_type": media, "text": text}
        for i, t, name, media, text in files
    ]
    pdf = base64.b64encode(manual_pdf()).decode()
    rows.append(
        {"document_id": "golden-file-manual", "title": "Quillmaker 3000 Manual", "source": f"{source}.manual_pdf()",
         "content_type": "application/pdf", "content_base64": pdf}
    )  # fmt: skip
    return rows


def main() -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    rows = [
        {
            "document_id": f"golden-{key}",
            "title": title,
            "source": f"CPython {platform.python_version()} pydoc_data.topics['{key}']",
            "text": topics[key],
        }
        for key, title in TOPICS.items()
    ]
    rows += [
        {
            "document_id": f"golden-doc-{name}",
            "title": title,
            "source": f"ragmesh docs/{name}.md at {commit.strip()}",
            "text": (ROOT / "docs" / f"{name}.md").read_text(),
        }
        for name, title in PAGES.items()
    ]
    rows += file_rows()
    with (HERE / "corpus.jsonl").open("w") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
