"""The indexer's parsers (markdown, HTML, PDF) and the use case that picks one by content type:
structure kept (heading path, page, list items, table rows, code), markup dropped, and any input
either parsed or refused with UnreadableDocument, never another error (property-based)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ragmesh_devstack.sample_documents import pdf_bytes
from ragmesh_kit.domain import UPSERT, DocumentCommand
from ragmesh_kit.tokens import TokenCounter
from services.indexer.adapters.html_parser import HtmlParser
from services.indexer.adapters.markdown_parser import MarkdownParser
from services.indexer.adapters.parsers import document_parsers
from services.indexer.adapters.pdf_parser import PdfParser
from services.indexer.app.chunker import Chunker, ChunkingPolicy
from services.indexer.app.document_chunks import DocumentChunker
from services.indexer.app.structure import StructuredDocument, UnreadableDocument
from tests.encrypted_pdf import encrypted

MARKDOWN = b"""# Widget guide

Intro with **bold**, a [link](http://example.com) and `inline code`.

## Setup

- Install the widget with the blue installer.
- Restart the computer afterwards.

| Port | Component |
|------|-----------|
| 9092 | Kafka |

```sh
widget --start
```
"""

HTML = b"""<html><head><title>Widget FAQ</title><script>var tracking = 1;</script><style>p {}</style></head>
<body><header><a href="/">Home</a> | <a href="/about">About us</a></header>
<nav><ul><li>Products</li><li>Pricing</li></ul></nav>
<main><h1>Widget FAQ</h1><p>The widget is <em>small</em>.<br>It fits in a pocket.</p>
<h2>Colours</h2><ul><li>Red is the default colour.</li><li>Blue costs extra.</li></ul>
<table><tr><th>Size</th><th>Price</th></tr><tr><td>Small</td><td>10 EUR</td></tr></table></main>
<footer>Copyright 2026</footer></body></html>"""

PAGES = [
    [(20, "Widget Manual"), (11, "This manual explains the widget."), (16, "Installing"), (11, "- Unpack the box.")],
    [(16, "Troubleshooting"), (11, "If the widget hums, turn it off and on again.")],
]


def _chunker() -> DocumentChunker:
    return DocumentChunker(Chunker(TokenCounter(), ChunkingPolicy(200, 40)), document_parsers())


def _command(content: bytes, content_type: str) -> DocumentCommand:
    return DocumentCommand(UPSERT, "t", "d", 1, content=content, content_type=content_type)


def _blocks(document: StructuredDocument) -> list[tuple[str, int, str, str]]:
    return [(s.heading, s.page, b.kind, b.text) for s in document.sections for b in s.blocks]


def test_markdown_keeps_structure_and_drops_markup() -> None:
    blocks = _blocks(MarkdownParser().parse(MARKDOWN))
    assert ("Widget guide", 0, "paragraph", "Intro with bold, a link and inline code.") in blocks
    assert ("Widget guide › Setup", 0, "item", "\u2022 Install the widget with the blue installer.") in blocks
    assert ("Widget guide › Setup", 0, "row", "Port: 9092; Component: Kafka.") in blocks
    assert ("Widget guide › Setup", 0, "code", "widget --start") in blocks


def test_html_drops_scripts_styles_and_navigation() -> None:
    document = HtmlParser().parse(HTML)
    blocks = _blocks(document)
    assert document.title == "Widget FAQ"
    assert ("Widget FAQ", 0, "paragraph", "The widget is small. It fits in a pocket.") in blocks
    assert ("Widget FAQ › Colours", 0, "item", "\u2022 Blue costs extra.") in blocks
    assert ("Widget FAQ › Colours", 0, "row", "Size: Small; Price: 10 EUR.") in blocks
    text = " ".join(block[3] for block in blocks)
    for boilerplate in ("tracking", "Products", "About us", "Copyright", "p {}"):
        assert boilerplate not in text


def test_pdf_pages_and_headings_by_font_size() -> None:
    document = PdfParser().parse(pdf_bytes(PAGES, title="The manual"))
    blocks = _blocks(document)
    assert document.title == "The manual"
    assert ("Widget Manual", 1, "paragraph", "This manual explains the widget.") in blocks
    assert ("Widget Manual › Installing", 1, "item", "\u2022 Unpack the box.") in blocks
    assert (
        "Widget Manual › Troubleshooting",
        2,
        "paragraph",
        "If the widget hums, turn it off and on again.",
    ) in blocks


def test_chunks_carry_heading_and_page_and_no_markup() -> None:
    chunks = _chunker()(_command(pdf_bytes(PAGES), "application/pdf")).chunks
    assert {(c.heading, c.page) for c in chunks} == {
        ("Widget Manual", 1),
        ("Widget Manual › Installing", 1),
        ("Widget Manual › Troubleshooting", 2),
    }
    for content, media in ((MARKDOWN, "text/markdown"), (HTML, "text/html")):
        for chunk in _chunker()(_command(content, media)).chunks:
            body = chunk.text.split("\n", 1)[1]  # past the heading line
            assert "|" not in body and "<" not in body and "**" not in body, chunk.text


def test_plain_text_is_chunked_as_before() -> None:
    text = "# Title\n\nSome text. More text.\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    plain = Chunker(TokenCounter(), ChunkingPolicy(200, 40)).split(text)
    result = _chunker()(DocumentCommand(UPSERT, "t", "d", 1, text=text))
    assert [c.text for c in result.chunks] == plain and all(c.heading == "" and c.page == 0 for c in result.chunks)


@pytest.mark.parametrize(
    ("content", "media", "reason"),
    [
        (encrypted(pdf_bytes(PAGES)), "application/pdf", "encrypted"),
        (b"%PDF-1.4\nthis is not really a PDF", "application/pdf", "could not be read"),
        (b"plain words", "application/pdf", "not a PDF"),
        (b"<html><script>x()</script><nav>menu</nav></html>", "text/html", "no text"),
        (b"\xff\xfe\x00bad", "text/markdown", "not UTF-8"),
        (b"hello", "application/msword", "not supported"),
        (pdf_bytes([[], []]), "application/pdf", "no text"),
    ],
)
def test_bad_documents_are_refused_with_the_reason(content: bytes, media: str, reason: str) -> None:
    with pytest.raises(UnreadableDocument, match=reason):
        _chunker()(_command(content, media))


def _never_fails_otherwise(content: bytes, media: str) -> None:
    try:
        result = _chunker()(_command(content, media))
    except UnreadableDocument as error:
        assert str(error)
    else:
        assert result.chunks and all(chunk.text.strip() for chunk in result.chunks)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000), st.sampled_from(["text/markdown", "text/html", "application/pdf", "text/plain"]))
def test_any_bytes_are_parsed_or_refused(content: bytes, media: str) -> None:
    _never_fails_otherwise(content, media)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=1500), st.sampled_from(["text/markdown", "text/html"]))
def test_any_text_is_parsed_or_refused(text: str, media: str) -> None:
    _never_fails_otherwise(text.encode(), media)


_SAMPLE_PDF = pdf_bytes(PAGES)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, len(_SAMPLE_PDF) - 1), st.integers(0, 255)), max_size=8), st.integers(20, 4000)
)
def test_damaged_pdfs_are_parsed_or_refused(flips: list[tuple[int, int]], keep: int) -> None:
    damaged = bytearray(_SAMPLE_PDF)
    for position, value in flips:
        damaged[position] = value
    _never_fails_otherwise(bytes(damaged[:keep]), "application/pdf")
