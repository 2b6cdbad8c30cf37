"""The caller's deadline, carried to every outbound call. The server side records when the
incoming RPC must be done (``ServerCallInterceptor`` does it for every handler); each client
then asks ``timeout_for(configured)`` and gets the time the caller has left, less a small margin
for the answer's way back, capped by its own configured maximum. A question sent with 300 ms left
never waits 5 s on the embedder.

A context variable, not a parameter: the deadline belongs to the request, and every call made
while serving it (in the same task) inherits it without threading it through every use case."""

from __future__ import annotations

import time
from contextvars import ContextVar, Token

from ragmesh_kit.errors import DeadlineExceeded

# Time kept back at each hop so a callee's DEADLINE_EXCEEDED reaches its caller before the caller's
# own deadline passes.
MARGIN_SECONDS = 0.05

_deadline: ContextVar[float | None] = ContextVar("ragmesh_deadline", default=None)


def start(time_remaining: float | None) -> Token[float | None]:
    """Records the incoming call's deadline (None: the caller set none)."""
    return _deadline.set(None if time_remaining is None else time.monotonic() + time_remaining)


def reset(token: Token[float | None]) -> None:
    _deadline.reset(token)


def remaining() -> float | None:
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def timeout_for(configured_seconds: float, what: str = "the call") -> float:
    """The timeout of an outbound call: the configured maximum, or less when the caller has less
    left. Raises DeadlineExceeded when nothing is left, rather than starting a call that cannot
    finish."""
    left = remaining()
    if left is None:
        return configured_seconds
    left -= MARGIN_SECONDS
    if left <= 0:
        raise DeadlineExceeded(f"the caller's deadline passed before {what} could start")
    return min(configured_seconds, left)
