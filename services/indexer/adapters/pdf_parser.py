"""PDF to a structured document, with pypdf: the text of each page (its own section, so the page
number stays on every chunk), headings recognised by their font size (larger than the body text),
bullet lines as list items, wrapped lines joined (a word hyphenated across lines is rejoined)."""

from __future__ import annotations

import io
import logging
import math
import re
from collections import Counter
from collections.abc import Sequence

from pypdf import PdfReader

from services.indexer.app.structure import DocumentBuilder, StructuredDocument, UnreadableDocument, fold

_BULLET = re.compile(r"^(?:([\u2022\u25aa\u25cf\u2013\u00b7*-])|(\d{1,3}[.)]))\s+(.*)$")
# A heading is set at least this much larger than the body text, and is short.
_HEADING_RATIO = 1.15
_HEADING_MAX_CHARS = 120


class PdfParser:
    def __init__(self) -> None:
        # pypdf reports the damage it works around as warnings; a damaged file is the sender's
        # problem and its outcome is recorded on the document, not in the service's log.
        logging.getLogger("pypdf").setLevel(logging.ERROR)

    def parse(self, content: bytes) -> StructuredDocument:
        try:
            reader = PdfReader(io.BytesIO(content))
            if reader.is_encrypted and not _opens_without_password(reader):
                raise UnreadableDocument("the PDF is encrypted with a password; send it without the password")
            pages = [_read_page(page) for page in reader.pages]
            metadata = reader.metadata
            title = str(metadata.get("/Title") or "") if metadata is not None else ""
        except UnreadableDocument:
            raise
        except Exception as error:  # pypdf raises many kinds; each means "cannot read it"
            raise UnreadableDocument(f"the PDF could not be read: {type(error).__name__}: {error}") from error
        if not pages:
            raise UnreadableDocument("the PDF has no pages")
        return _structure(pages, fold(title))


def _opens_without_password(reader: PdfReader) -> bool:
    try:
        return bool(reader.decrypt(""))
    except Exception:  # noqa: BLE001 - an unsupported encryption is the same as a password to us
        return False


def _read_page(page: object) -> tuple[str, list[tuple[str, float]]]:
    """The page's text, and its text pieces with their rendered font sizes."""
    pieces: list[tuple[str, float]] = []

    def visit(text: str, cm: Sequence[float], tm: Sequence[float], font: object, size: float) -> None:
        if text.strip():
            scale = (math.hypot(tm[2], tm[3]) or 1.0) * (math.hypot(cm[2], cm[3]) or 1.0)
            pieces.append((fold(text), float(size) * scale))

    text = page.extract_text(visitor_text=visit)  # type: ignore[attr-defined]
    return text or "", pieces


def _heading_levels(pages: list[tuple[str, list[tuple[str, float]]]]) -> dict[str, int]:
    """Text pieces set larger than the body (the size holding most characters), by level: the
    largest size is level 1."""
    weight: Counter[float] = Counter()
    for _, pieces in pages:
        for text, size in pieces:
            weight[round(size, 1)] += len(text)
    if not weight:
        return {}
    body = weight.most_common(1)[0][0]
    sizes: dict[str, float] = {}
    for _, pieces in pages:
        for text, size in pieces:
            if (
                round(size, 1) >= body * _HEADING_RATIO
                and len(text) <= _HEADING_MAX_CHARS
                and any(c.isalpha() for c in text)
            ):
                sizes.setdefault(text, round(size, 1))
    ranks = {size: rank for rank, size in enumerate(sorted(set(sizes.values()), reverse=True), 1)}
    return {text: min(ranks[size], 6) for text, size in sizes.items()}


def _page_lines(builder: DocumentBuilder, text: str, headings: dict[str, int]) -> None:
    paragraph: list[str] = []
    for raw in [*text.split("\n"), ""]:  # the last, empty line ends the last paragraph
        line = fold(raw)
        level = headings.get(line)
        bullet = _BULLET.match(line)
        if paragraph and (not line or level or bullet):
            builder.paragraph(" ".join(paragraph))
            paragraph = []
        if not line:
            continue
        if level:
            builder.heading(level, line)
        elif bullet:
            builder.item(bullet.group(3), bullet.group(2) or "\u2022")
        elif paragraph and paragraph[-1].endswith("-") and line[:1].islower():
            paragraph[-1] = paragraph[-1][:-1] + line  # a word hyphenated at the line's end
        else:
            paragraph.append(line)


def _structure(pages: list[tuple[str, list[tuple[str, float]]]], title: str) -> StructuredDocument:
    headings = _heading_levels(pages)
    builder = DocumentBuilder()
    for number, (text, _) in enumerate(pages, 1):
        builder.page(number)
        _page_lines(builder, text, headings)
    document = builder.build()
    document.title = title or document.title
    return document
