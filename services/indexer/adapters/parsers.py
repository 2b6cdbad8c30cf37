"""The parser for each content type the indexer reads (text/plain needs none)."""

from __future__ import annotations

from ragmesh_kit import content_types
from services.indexer.adapters.html_parser import HtmlParser
from services.indexer.adapters.markdown_parser import MarkdownParser
from services.indexer.adapters.pdf_parser import PdfParser
from services.indexer.app.ports import DocumentParser


def document_parsers() -> dict[str, DocumentParser]:
    return {
        content_types.MARKDOWN: MarkdownParser(),
        content_types.HTML: HtmlParser(),
        content_types.PDF: PdfParser(),
    }
