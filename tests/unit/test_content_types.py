"""Declared content types and the checks made without parsing (the gateway's refusals), and the
document event carrying content."""

from __future__ import annotations

import pytest

from ragmesh_kit import content_types
from ragmesh_kit.document_events import decode_event, encode_event
from ragmesh_kit.domain import UPSERT, DocumentCommand
from ragmesh_kit.errors import InvalidArgument


@pytest.mark.parametrize(
    ("declared", "media"),
    [("", "text/plain"), ("text/markdown; charset=UTF-8", "text/markdown"), ("TEXT/HTML", "text/html"),
     ("application/x-pdf", "application/pdf"), ("text/x-markdown", "text/markdown")],
)  # fmt: skip
def test_known_types(declared: str, media: str) -> None:
    assert content_types.normalize(declared) == media


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        ("application/msword", "not supported"),
        ("text/plain; charset=latin-1", "only UTF-8"),
        ("image/png", "use one of"),
    ],
)
def test_unknown_types_say_what_is_accepted(declared: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        content_types.normalize(declared)


@pytest.mark.parametrize(
    ("content", "media", "message"),
    [(b"\xc3\x28 broken", "text/markdown", "byte 0 is 0xc3"), (b"  \n", "text/html", "empty"),
     (b"GIF89a", "application/pdf", "not a PDF")],
)  # fmt: skip
def test_content_that_is_not_its_type(content: bytes, media: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        content_types.check_content(content, media)


def test_events_carry_content_and_type() -> None:
    command = DocumentCommand(UPSERT, "t", "d", 3, title="T", content=b"%PDF-1.4 ...", content_type="application/pdf")
    assert decode_event(encode_event(command)) == command
