"""Draws a trace as a waterfall: one row per span in tree order, with service, operation, start
offset, duration and a bar on a shared time axis; failed spans in red."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ragmesh_devstack.jaeger import Span, Trace

SERVICE_COLOURS = {
    "gateway": "bright_cyan",
    "embedder": "green",
    "retriever": "yellow",
    "generator": "magenta",
    "indexer": "blue",
    "triton": "bright_green",
}
BAR_WIDTH = 48


def _is_error(span: Span) -> bool:
    status = str(span.tags.get("otel.status_code", "")).upper()
    return status == "ERROR" or span.tags.get("error") is True or str(span.tags.get("error")) == "true"


def _ordered(trace: Trace) -> list[tuple[int, Span]]:
    """Spans depth-first by start time; spans whose parent is missing count as roots."""
    known = {span.span_id for span in trace.spans}
    roots = sorted((s for s in trace.spans if s.parent_id not in known), key=lambda s: s.start_us)
    rows: list[tuple[int, Span]] = []

    def visit(span: Span, depth: int) -> None:
        rows.append((depth, span))
        for child in sorted(trace.children(span), key=lambda s: s.start_us):
            visit(child, depth + 1)

    for root in roots:
        visit(root, 0)
    return rows


def _bar(span: Span, start_us: int, total_us: int, colour: str) -> Text:
    scale = BAR_WIDTH / max(total_us, 1)
    offset = int((span.start_us - start_us) * scale)
    length = max(1, round(span.duration_us * scale))
    offset = min(offset, BAR_WIDTH - 1)
    length = min(length, BAR_WIDTH - offset)
    return Text(" " * offset + "█" * length + " " * (BAR_WIDTH - offset - length), style=colour)


def render(trace: Trace) -> Table:
    start_us = min(span.start_us for span in trace.spans)
    end_us = max(span.start_us + span.duration_us for span in trace.spans)
    total_us = end_us - start_us
    errors = sum(1 for span in trace.spans if _is_error(span))
    table = Table(
        title=f"trace {trace.trace_id} — {len(trace.spans)} spans, {total_us / 1000:.1f} ms, "
        f"services: {', '.join(sorted(trace.services))}" + (f", {errors} failed" if errors else ""),
        title_justify="left",
        show_lines=False,
        pad_edge=False,
    )
    table.add_column("service", no_wrap=True)
    table.add_column("operation", no_wrap=True, max_width=60)
    table.add_column("start ms", justify="right")
    table.add_column("dur ms", justify="right")
    table.add_column(f"0 … {total_us / 1000:.1f} ms", no_wrap=True)
    for depth, span in _ordered(trace):
        failed = _is_error(span)
        colour = "bold red" if failed else SERVICE_COLOURS.get(span.service, "white")
        operation = ("· " * depth) + span.operation + ("  ✗" if failed else "")
        table.add_row(
            Text(span.service, style=colour),
            Text(operation, style="red" if failed else ""),
            f"{(span.start_us - start_us) / 1000:.2f}",
            f"{span.duration_us / 1000:.2f}",
            _bar(span, start_us, total_us, colour),
        )
    return table


def print_waterfall(trace: Trace, console: Console) -> None:
    console.print(render(trace))
