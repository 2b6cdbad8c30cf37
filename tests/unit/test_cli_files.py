"""`ragmesh ingest` picks files by extension and names what it skips; the SDK's submit_file sends a
file's bytes with the content type of its extension."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragmesh.client.requests import file_request
from ragmesh_cli.documents import collect_files


def test_files_are_typed_by_extension_and_skipped_ones_named(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    (folder / "guide").mkdir(parents=True)
    (folder / ".git").mkdir()
    files = {
        "README.md": b"# Readme",
        "guide/page.HTM": b"<p>hi</p>",
        "guide/manual.pdf": b"%PDF-1.4",
        "notes.txt": b"notes",
        "script.py": b"print()",
        "logo.png": b"\x89PNG",
        "empty.md": b"",
        ".env": b"SECRET=1",
        ".git/config": b"[core]",
    }
    for name, body in files.items():
        (folder / name).write_bytes(body)
    found = collect_files([folder])
    assert {(doc, kind) for doc, _, kind in found.files} == {
        ("docs/README.md", "text/markdown"),
        ("docs/guide/page.HTM", "text/html"),
        ("docs/guide/manual.pdf", "application/pdf"),
        ("docs/notes.txt", "text/plain"),
        ("docs/script.py", "text/plain"),
    }
    skipped = {file.name: why for file, why in found.skipped}
    assert skipped == {
        "logo.png": ".png is not a supported type (.md, .html, .htm, .pdf, .txt)",
        "empty.md": "empty file",
        ".env": "hidden file",
    }


def test_submit_file_sends_bytes_with_the_type_of_the_extension(tmp_path: Path) -> None:
    pdf = tmp_path / "Manual.PDF"
    pdf.write_bytes(b"%PDF-1.4 bytes")
    request = file_request(pdf, None, None, {"lang": "en"}, 0)
    assert (request.document_id, request.title, request.content_type) == ("Manual.PDF", "Manual", "application/pdf")
    assert request.content == b"%PDF-1.4 bytes" and request.text == ""
    with pytest.raises(ValueError, match=r"\.docx is not a supported file type"):
        file_request(tmp_path / "letter.docx", None, None, None, 0)
