"""A PDF locked with a password, for the parsers' refusal tests (unit and stack)."""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter


def encrypted(pdf: bytes, password: str = "secret") -> bytes:  # noqa: S107 - a test document's password
    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        writer.add_page(page)
    writer.encrypt(password, algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
