"""Documents as users hold them, through the real stack: a folder with a markdown handbook (headings,
a list, a table), an HTML page with navigation boilerplate and a two-page PDF goes through
`ragmesh ingest` (gateway -> Kafka -> indexer); questions answered from a list item, a table row and
page 2 of the PDF cite the section heading (and the page), and no markup reaches an answer."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

from ragmesh.client import AsyncRagmeshClient, RagmeshClient
from ragmesh_devstack.sample_documents import FAQ_HTML, HANDBOOK_MARKDOWN, manual_pdf
from tests.stack.conftest import RunningStack

ROOT = Path(__file__).resolve().parents[2]
MARKUP = ("|", "#", "<", ">", "**", "`", "---")


@pytest.fixture(scope="module")
def ingested(running_stack: RunningStack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("formats") / "team"
    folder.mkdir()
    (folder / "handbook.md").write_text(HANDBOOK_MARKDOWN)
    (folder / "faq.html").write_text(FAQ_HTML)
    (folder / "manual.pdf").write_bytes(manual_pdf())
    (folder / "notes.docx").write_bytes(b"PK\x03\x04 not supported")
    command = [str(ROOT / "bin/ragmesh"), "ingest", str(folder), "--json"]
    command += ["--gateway", running_stack.address("gateway"), "--api-key", running_stack.api_key]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    output: dict[str, object] = json.loads(done.stdout)
    return output


def test_the_three_formats_are_indexed_with_their_types(ingested: dict[str, object]) -> None:
    documents = ingested["documents"]
    assert isinstance(documents, dict)
    assert {doc: (r["state"], r["content_type"]) for doc, r in documents.items()} == {
        "team/handbook.md": ("indexed", "text/markdown"),
        "team/faq.html": ("indexed", "text/html"),
        "team/manual.pdf": ("indexed", "application/pdf"),
    }
    skipped = ingested["skipped"]
    assert isinstance(skipped, dict) and [Path(f).name for f in skipped] == ["notes.docx"]


@pytest.mark.parametrize(
    ("question", "fact", "document", "heading", "page"),
    [
        ("How many times do you press the copper lever to prime the pump?", "three times",
         "team/handbook.md", "Orbital Kettle Handbook › Setup", 0),
        ("Which port does the steam valve control use?", "7413",
         "team/handbook.md", "Orbital Kettle Handbook › Network ports", 0),
        ("How do you reset the Quillmaker when it jams?", "eight seconds",
         "team/manual.pdf", "Quillmaker 3000 Manual › Troubleshooting", 2),
        ("How long does the Lantern Relay run on one charge?", "19 hours",
         "team/faq.html", "Lantern Relay FAQ › Battery", 0),
    ],
)  # fmt: skip
def test_answers_cite_the_section_and_page(
    running_stack: RunningStack,
    ingested: dict[str, object],
    question: str,
    fact: str,
    document: str,
    heading: str,
    page: int,
) -> None:
    with RagmeshClient(running_stack.address("gateway"), running_stack.api_key) as client:
        answer = client.ask(question, bypass_cache=True)
    assert fact in answer.text, answer
    for text in (answer.text, *(c.quote for c in answer.citations)):
        assert not any(mark in text for mark in MARKUP), f"markup in {text!r}"
    citation = next(c for c in answer.citations if c.document_id == document)
    assert (citation.heading, citation.page) == (heading, page)
    assert fact in citation.quote


def test_navigation_boilerplate_is_not_indexed(running_stack: RunningStack, ingested: dict[str, object]) -> None:
    with RagmeshClient(running_stack.address("gateway"), running_stack.api_key) as client:
        hits = client.search("Pricing plans careers newsletter copyright shop gadgets", top_k=20, mode="hybrid").hits
    texts = " ".join(hit.text for hit in hits if hit.document_id == "team/faq.html")
    for boilerplate in ("Pricing plans", "Careers", "newsletter", "Copyright", "analytics", "font-family"):
        assert boilerplate not in texts


async def test_async_sdk_submits_a_file(running_stack: RunningStack, tmp_path: Path) -> None:
    page = tmp_path / "relay.html"
    page.write_text(FAQ_HTML)
    async with AsyncRagmeshClient(running_stack.address("gateway"), running_stack.api_key) as client:
        submitted = await client.submit_file(page, document_id="async/relay.html", metadata={"lang": "en"})
        for _ in range(240):
            status = await client.document_status("async/relay.html")
            if status.state in ("indexed", "failed") and status.version == submitted.version:
                break
            await asyncio.sleep(0.5)
    assert (status.state, status.chunk_count) == ("indexed", 3), status
