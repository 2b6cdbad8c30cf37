"""Reads traces back from Jaeger's query API (the tests, the demo and SREs' tools use it)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    span_id: str
    parent_id: str
    service: str
    operation: str
    start_us: int
    duration_us: int
    tags: dict[str, object] = field(default_factory=dict)
    links: tuple[str, ...] = ()


@dataclass(frozen=True)
class Trace:
    trace_id: str
    spans: list[Span]

    @property
    def services(self) -> set[str]:
        return {span.service for span in self.spans}

    def by_id(self, span_id: str) -> Span | None:
        return next((span for span in self.spans if span.span_id == span_id), None)

    def children(self, span: Span) -> list[Span]:
        return [child for child in self.spans if child.parent_id == span.span_id]

    def descendants(self, span: Span) -> list[Span]:
        found: list[Span] = []
        queue = [span]
        while queue:
            for child in self.children(queue.pop()):
                found.append(child)
                queue.append(child)
        return found

    def find(self, service: str, operation_contains: str) -> list[Span]:
        return [s for s in self.spans if s.service == service and operation_contains in s.operation]


def _parse(data: dict[str, object]) -> Trace:
    processes = data.get("processes", {})
    assert isinstance(processes, dict)
    spans: list[Span] = []
    for raw in data.get("spans", []):  # type: ignore[attr-defined]
        references = raw.get("references", [])
        parent = next((ref["spanID"] for ref in references if ref.get("refType") == "CHILD_OF"), "")
        links = tuple(ref["spanID"] for ref in references if ref.get("refType") == "FOLLOWS_FROM")
        spans.append(
            Span(
                span_id=raw["spanID"],
                parent_id=parent,
                service=processes.get(raw["processID"], {}).get("serviceName", "?"),
                operation=raw["operationName"],
                start_us=int(raw["startTime"]),
                duration_us=int(raw["duration"]),
                tags={tag["key"]: tag["value"] for tag in raw.get("tags", [])},
                links=links,
            )
        )
    return Trace(trace_id=str(data.get("traceID", "")), spans=spans)


class JaegerQuery:
    def __init__(self, base_url: str) -> None:
        self._base = base_url.rstrip("/")

    def get_trace(self, trace_id: str) -> Trace | None:
        try:
            with urllib.request.urlopen(f"{self._base}/api/traces/{trace_id}", timeout=5) as reply:  # noqa: S310
                body = json.load(reply)
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise
        data = body.get("data") or []
        return _parse(data[0]) if data else None

    def wait_for_trace(self, trace_id: str, complete: Callable[[Trace], bool], timeout_seconds: float = 30.0) -> Trace:
        """Polls until ``complete`` holds: spans reach the store in batches, from several processes."""
        return self.wait_for_any_trace([trace_id], complete, timeout_seconds)

    def wait_for_any_trace(
        self, trace_ids: Sequence[str], complete: Callable[[Trace], bool], timeout_seconds: float = 30.0
    ) -> Trace:
        """The first of ``trace_ids`` whose trace satisfies ``complete``, polled together."""
        deadline = time.monotonic() + timeout_seconds
        last: Trace | None = None
        while time.monotonic() < deadline:
            for trace_id in trace_ids:
                found = self.get_trace(trace_id)
                last = found or last
                if found is not None and complete(found):
                    return found
            time.sleep(0.5)
        seen = sorted(f"{s.service}:{s.operation}" for s in last.spans) if last else []
        raise TimeoutError(f"traces {list(trace_ids)} incomplete after {timeout_seconds}s; spans seen last: {seen}")

    def last_trace_id(self, service: str, lookback: str = "2h") -> str | None:
        """The id of the most recent trace that has a root span in ``service``."""
        url = f"{self._base}/api/traces?service={service}&limit=50&lookback={lookback}"
        with urllib.request.urlopen(url, timeout=5) as reply:  # noqa: S310
            body = json.load(reply)
        traces = [_parse(item) for item in body.get("data") or []]
        if not traces:
            return None
        newest = max(traces, key=lambda t: min(span.start_us for span in t.spans))
        return newest.trace_id

    def find_traces(self, service: str, operation: str, limit: int = 50, lookback: str = "1h") -> list[Trace]:
        query = urllib.parse.urlencode(
            {"service": service, "operation": operation, "limit": limit, "lookback": lookback}
        )
        with urllib.request.urlopen(f"{self._base}/api/traces?{query}", timeout=5) as reply:  # noqa: S310
            body = json.load(reply)
        return [_parse(item) for item in body.get("data") or []]
