"""One way to wait for something that happens asynchronously (Kafka indexing, log and span
flushes, restarts): poll ``check`` until it returns a truthy value, and fail with one message
format when it does not within the time given. ``eventually_async`` is the same for a coroutine
check in an async test. To fail at once (a process that exited), raise anything but an
AssertionError from ``check``, e.g. with ``pytest.fail``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class _Deadline:
    def __init__(self, what: str, timeout: float) -> None:
        self.what, self.timeout, self.at = what, timeout, time.monotonic() + timeout

    def settle(self, result: T | None, error: AssertionError | None) -> bool:
        """True when ``result`` is the answer; raises once the time is up; False: poll again."""
        if error is None and result:
            return True
        if time.monotonic() < self.at:
            return False
        if error is not None:
            raise error
        raise AssertionError(f"{self.what}: not seen within {self.timeout:.0f}s (last: {result!r})")


def eventually(check: Callable[[], T | None], what: str, timeout: float = 30.0, interval: float = 0.25) -> T:
    """Returns the first truthy result of ``check()``; raises AssertionError naming ``what`` and
    the last result (or error) when ``timeout`` seconds pass first. An AssertionError raised by
    ``check`` is retried until the time is up, then re-raised."""
    deadline = _Deadline(what, timeout)
    while True:
        result: T | None = None
        try:
            result = check()
        except AssertionError as error:
            deadline.settle(None, error)
        else:
            if deadline.settle(result, None) and result is not None:
                return result
        time.sleep(interval)


async def eventually_async(
    check: Callable[[], Awaitable[T | None]], what: str, timeout: float = 30.0, interval: float = 0.25
) -> T:
    """``eventually`` for a coroutine function: awaits ``check()`` until it returns a truthy value."""
    deadline = _Deadline(what, timeout)
    while True:
        result: T | None = None
        try:
            result = await check()
        except AssertionError as error:
            deadline.settle(None, error)
        else:
            if deadline.settle(result, None) and result is not None:
                return result
        await asyncio.sleep(interval)
