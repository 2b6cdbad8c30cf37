"""One way to wait for something that happens asynchronously (Kafka indexing, log and span
flushes, restarts): poll ``check`` until it returns a truthy value, and fail with one message
format when it does not within the time given."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(check: Callable[[], T], what: str, timeout: float = 30.0, interval: float = 0.25) -> T:
    """Returns the first truthy result of ``check()``; raises AssertionError naming ``what`` and
    the last result (or error) when ``timeout`` seconds pass first. An AssertionError raised by
    ``check`` is retried until the time is up, then re-raised."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except AssertionError:
            if time.monotonic() >= deadline:
                raise
        else:
            if result:
                return result
            if time.monotonic() >= deadline:
                raise AssertionError(f"{what}: not seen within {timeout:.0f}s (last: {result!r})")
        time.sleep(interval)
