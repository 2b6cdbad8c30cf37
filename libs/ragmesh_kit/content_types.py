"""What a document is, as its producer declares it (``content_type`` in the document contracts),
and the checks that can be made without parsing it: the gateway refuses at once what it can tell is
wrong; the indexer repeats them for producers that write to Kafka directly."""

from __future__ import annotations

from ragmesh_kit.errors import InvalidArgument

PLAIN = "text/plain"
MARKDOWN = "text/markdown"
HTML = "text/html"
PDF = "application/pdf"
KNOWN = (PLAIN, MARKDOWN, HTML, PDF)
TEXT_TYPES = (PLAIN, MARKDOWN, HTML)
# Other names the same formats go by (file tools and browsers use them).
_ALIASES = {"text/x-markdown": MARKDOWN, "application/xhtml+xml": HTML, "application/x-pdf": PDF}
# A PDF file starts with this within its first 1024 bytes (ISO 32000-1, 7.5.2 and implementation notes).
_PDF_MAGIC = b"%PDF-"


def normalize(content_type: str) -> str:
    """The declared type as one of KNOWN ("" is text/plain); a charset other than UTF-8 or an
    unknown type raises InvalidArgument saying what is accepted."""
    media, _, parameters = content_type.partition(";")
    media = media.strip().lower() or PLAIN
    media = _ALIASES.get(media, media)
    if media not in KNOWN:
        raise InvalidArgument(f"content_type {content_type!r} is not supported; use one of {', '.join(KNOWN)}")
    for parameter in filter(None, (part.strip() for part in parameters.split(";"))):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8", "us-ascii"):
            raise InvalidArgument(f"content_type {content_type!r}: only UTF-8 text is accepted; convert it to UTF-8")
    return media


def decode_text(content: bytes) -> str:
    """UTF-8 text of a text document (a byte order mark is dropped); InvalidArgument names the first
    byte that is not UTF-8."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidArgument(
            f"content is not UTF-8 text (byte {error.start} is 0x{content[error.start]:02x}); "
            "send UTF-8 or declare the right content_type"
        ) from error


def check_content(content: bytes, media: str) -> None:
    """What can be told from the bytes without parsing: text types must be UTF-8, a PDF must start
    like one."""
    if media in TEXT_TYPES:
        text = decode_text(content)
        if not text.strip():
            raise InvalidArgument("content is empty (only whitespace); send the document's text")
    elif media == PDF and _PDF_MAGIC not in content[:1024]:
        raise InvalidArgument("content is not a PDF (no %PDF- header in its first 1024 bytes)")
