"""A circuit breaker for calls to one dependency: after N consecutive failures it opens and calls
fail at once (no piling up on a dead server); after a cool-down one trial call goes through, and a
success closes it again — so a service recovers by itself when its dependency is back."""

from __future__ import annotations

import time
from collections.abc import Callable

from ragmesh_kit.errors import DependencyUnavailable

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        failure_threshold: int = 5,
        reset_seconds: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._threshold = failure_threshold
        self._reset_seconds = reset_seconds
        self._clock = clock
        self._failures = 0
        self._opened_at = 0.0
        self._trial_in_flight = False

    @property
    def state(self) -> str:
        if self._failures < self._threshold:
            return CLOSED
        return HALF_OPEN if self._clock() - self._opened_at >= self._reset_seconds else OPEN

    def before_call(self) -> None:
        """Raises DependencyUnavailable while open; lets one trial through when half-open."""
        state = self.state
        if state == OPEN or (state == HALF_OPEN and self._trial_in_flight):
            wait = max(0.0, self._reset_seconds - (self._clock() - self._opened_at))
            raise DependencyUnavailable(
                f"{self.name}: circuit open after {self._failures} consecutive failures; retry in {wait:.1f}s"
            )
        if state == HALF_OPEN:
            self._trial_in_flight = True

    def succeeded(self) -> None:
        self._failures = 0
        self._trial_in_flight = False

    def failed(self) -> None:
        self._trial_in_flight = False
        self._failures += 1
        if self._failures >= self._threshold:
            self._opened_at = self._clock()
