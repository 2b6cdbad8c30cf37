"""Documents as users hold them, written from scratch for tests, benchmarks and the demo: a PDF
(hand-built: Helvetica text lines, one content stream per page, a heading in a larger size) and
nothing else needed to make it."""

from __future__ import annotations

from collections.abc import Sequence

# (font size, text) lines of one page, top to bottom.
PdfPage = Sequence[tuple[float, str]]


def _escape(text: str) -> bytes:
    raw = text.encode("latin-1", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _content(lines: PdfPage) -> bytes:
    out = [b"BT"]
    y = 800.0
    for size, text in lines:
        y -= size * 1.6
        out.append(b"/F1 %.1f Tf 1 0 0 1 56 %.1f Tm (%s) Tj" % (size, y, _escape(text)))
    out.append(b"ET")
    return b"\n".join(out)


def pdf_bytes(pages: Sequence[PdfPage], title: str = "", pad_to: int = 0) -> bytes:
    """A valid PDF 1.4 file with one page per entry. ``pad_to``: the file is made exactly this many
    bytes long with an unreferenced stream (for size-limit tests); 0 leaves it as small as it is."""
    objects: list[bytes] = []
    count = len(pages)
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(count))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    for i, page in enumerate(pages):
        stream = _content(page)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    info = len(objects) + 1
    objects.append(b"<< /Title (%s) /Producer (ragmesh sample_documents) >>" % _escape(title))

    def assemble(padding: int) -> bytes:
        body = [*objects]
        if padding:
            body.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (padding, b"0" * padding))
        out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, obj in enumerate(body, 1):
            offsets.append(len(out))
            out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(body) + 1)
        out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
        out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
            len(body) + 1,
            info,
            xref,
        )
        return bytes(out)

    document = assemble(0)
    if pad_to and pad_to > len(document):
        # The padding object's own framing and the longer xref take some bytes: measure, then fit.
        overhead = len(assemble(1)) - len(document) - 1
        padding = pad_to - len(document) - overhead
        document = assemble(padding)
        while len(document) != pad_to:  # digits of the length may shift the size by a byte or two
            padding += pad_to - len(document)
            document = assemble(padding)
    return document


# Three documents as a team keeps them, each with facts found nowhere else: answers to questions about
# a list item, a table row and page 2 of the PDF name the section (and page) they come from.
HANDBOOK_MARKDOWN = """# Orbital Kettle Handbook

The Orbital Kettle boils water in low gravity. This handbook covers its setup, its network ports
and its cleaning.

## Setup

Before the first use:

- Fill the kettle with at most 1.2 litres of filtered water.
- Press the copper lever three times to prime the pump of the Orbital Kettle.
- Wait for the amber lamp before pouring.

## Network ports

| Port | Service | Protocol |
|------|---------|----------|
| 7412 | telemetry uplink | UDP |
| 7413 | steam valve control | TCP |

## Cleaning

Descale the **Orbital Kettle** every 40 boils with *citric acid*, then rinse it with `distilled water`.
"""

FAQ_HTML = """<!doctype html>
<html><head><title>Lantern Relay FAQ</title>
<script>window.analytics = {track: function () {}};</script>
<style>body { font-family: sans-serif; } nav a { color: navy; }</style></head>
<body>
<header><a href="/">Acme home</a> <a href="/shop">Shop gadgets</a></header>
<nav><ul><li><a href="/pricing">Pricing plans</a></li><li><a href="/careers">Careers at Acme</a></li></ul></nav>
<main>
<h1>Lantern Relay FAQ</h1>
<p>The Lantern Relay is a pocket radio beacon for hikers.</p>
<h2>Battery</h2>
<p>The Lantern Relay runs for <strong>19 hours</strong> on one charge of its graphene battery.<br>
It charges fully in 50 minutes over USB-C.</p>
<h2>Signals</h2>
<ul><li>A green pulse means the relay has found a satellite.</li>
<li>A red pulse means the battery is below ten percent.</li></ul>
</main>
<aside>Subscribe to our newsletter for gadget deals.</aside>
<footer>Copyright 2026 Acme Gadgets. All rights reserved.</footer>
</body></html>
"""

MANUAL_PAGES: list[list[tuple[float, str]]] = [
    [
        (20, "Quillmaker 3000 Manual"),
        (11, "The Quillmaker 3000 cuts goose feathers into writing quills."),
        (11, "It sharpens each quill in under a minute."),
        (16, "Loading feathers"),
        (11, "Open the walnut drawer and lay up to twelve feathers on the felt tray."),
    ],
    [
        (16, "Troubleshooting"),
        (11, "If the Quillmaker jams, hold the silver reset button for eight seconds."),
        (11, "A blinking blue light means the blade needs oiling."),
    ],
]


def manual_pdf(pad_to: int = 0) -> bytes:
    """The Quillmaker manual: two pages, headings set larger than the text."""
    return pdf_bytes(MANUAL_PAGES, title="Quillmaker 3000 Manual", pad_to=pad_to)
