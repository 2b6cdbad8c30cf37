"""Use case: a document event's body as chunks. Plain text goes to the chunker as it is (the layout
it was tuned on); markdown, HTML and PDF go through the parser of their content type (one port,
chosen here) to a structured document, and each section is chunked on its own, so a chunk never
spans two sections or two pages and carries its section's heading path and page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ragmesh_kit import content_types
from ragmesh_kit.domain import DocumentCommand
from ragmesh_kit.errors import InvalidArgument
from services.indexer.app.chunker import Chunker
from services.indexer.app.ports import DocumentParser
from services.indexer.app.structure import UnreadableDocument, render_section


@dataclass(frozen=True)
class ChunkText:
    text: str
    heading: str = ""
    page: int = 0


@dataclass(frozen=True)
class DocumentChunks:
    chunks: list[ChunkText]
    title: str = ""  # what the document calls itself, for events that carry no title


class DocumentChunker:
    def __init__(self, chunker: Chunker, parsers: Mapping[str, DocumentParser]) -> None:
        self._chunker = chunker
        self._parsers = dict(parsers)

    def __call__(self, command: DocumentCommand) -> DocumentChunks:
        """Raises UnreadableDocument with the reason the document cannot be indexed."""
        try:
            media = content_types.normalize(command.content_type)
            body = command.content if command.content else command.text.encode()
            if command.content:
                content_types.check_content(body, media)
        except InvalidArgument as error:
            raise UnreadableDocument(error.message) from error
        if media == content_types.PLAIN:
            text = command.text or content_types.decode_text(body)
            plain = [ChunkText(chunk) for chunk in self._chunker.split(text)]
            if not plain:
                raise UnreadableDocument("the document has no text to index")
            return DocumentChunks(plain)
        parser = self._parsers.get(media)
        if parser is None:
            raise UnreadableDocument(f"no parser for {media} is configured")
        try:
            document = parser.parse(body)
        except UnreadableDocument:
            raise
        except Exception as error:  # a parser's own failure must reject this document, not stall its partition
            raise UnreadableDocument(f"the {media} document could not be parsed: {type(error).__name__}") from error
        if not document.has_text():
            raise UnreadableDocument(f"the {media} document has no text to index")
        chunks = [
            ChunkText(text, section.heading, section.page)
            for section in document.sections
            for text in self._chunker.split(render_section(section))
        ]
        if not chunks:
            raise UnreadableDocument(f"the {media} document has no text to index")
        return DocumentChunks(chunks, document.title)
