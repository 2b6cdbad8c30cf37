"""Turns Triton's own OpenTelemetry spans on or off at run time through its trace API (the server
starts with the exporter configured and the level OFF, see StackSettings.triton_tracing)."""

from __future__ import annotations

import json
import urllib.request


def set_triton_tracing(http_port: int, on: bool, rate: int = 1) -> dict[str, object]:
    """Sets the server-wide trace level (TIMESTAMPS or OFF) and sample rate (1 of ``rate``
    requests); returns Triton's settings as it reports them."""
    if rate < 1:
        raise ValueError(f"rate must be >= 1 (one traced request in every `rate`), got {rate}")
    body = json.dumps({"trace_level": ["TIMESTAMPS" if on else "OFF"], "trace_rate": str(rate)}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{http_port}/v2/trace/setting",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as reply:  # noqa: S310 - a local URL
        settings: dict[str, object] = json.loads(reply.read())
    return settings
