"""A circuit breaker for calls to one dependency: after N consecutive outages it opens and calls fail
at once (no piling up on a dead server); after a cool-down one trial call goes through, and a success
closes it again, so a service recovers by itself when its dependency is back.

Kept instead of aiobreaker or purgatory: both let every caller through while half-open (a herd on a
server that is just coming back), and neither tells an outage from a caller's own bad request or
cancellation by gRPC status; this one admits exactly one trial and ends it on every path.

Every call goes through ``guard()``: a context manager whose exit always ends the call. A success
closes the breaker, an outage counts towards opening it, and anything else (a bad request, a
cancelled caller, an abandoned stream) releases the trial without a verdict, so the next caller
becomes the trial. A trial can never be left in flight.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum

from ragmesh_kit.errors import DependencyUnavailable


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


CLOSED, OPEN, HALF_OPEN = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN

IsOutage = Callable[[BaseException], bool]


class GuardedCall:
    """One admitted call. ``succeeded()`` may be called early (a stream's first response proves the
    dependency is up); the guard's exit then changes nothing more."""

    def __init__(self, breaker: CircuitBreaker, trial: bool) -> None:
        self._breaker = breaker
        self.trial = trial
        self.ended = False

    def succeeded(self) -> None:
        if not self.ended:
            self.ended = True
            self._breaker._record_success()

    def failed(self) -> None:
        if not self.ended:
            self.ended = True
            self._breaker._record_outage(self.trial)

    def released(self) -> None:
        if not self.ended:
            self.ended = True
            self._breaker._release(self.trial)


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
    def state(self) -> BreakerState:
        if self._failures < self._threshold:
            return CLOSED
        return HALF_OPEN if self._clock() - self._opened_at >= self._reset_seconds else OPEN

    @contextmanager
    def guard(self, is_outage: IsOutage) -> Iterator[GuardedCall]:
        """Admits one call (raises DependencyUnavailable while open, or while half-open with the
        trial already out) and ends it on every exit path."""
        call = GuardedCall(self, trial=self._admit())
        try:
            yield call
        except BaseException as error:
            if is_outage(error):
                call.failed()
            else:
                call.released()
            raise
        else:
            call.succeeded()

    def _admit(self) -> bool:
        state = self.state
        if state == OPEN or (state == HALF_OPEN and self._trial_in_flight):
            wait = max(0.0, self._reset_seconds - (self._clock() - self._opened_at))
            raise DependencyUnavailable(
                f"{self.name}: circuit open after {self._failures} consecutive failures; retry in {wait:.1f}s"
            )
        if state == HALF_OPEN:
            self._trial_in_flight = True
            return True
        return False

    def _record_success(self) -> None:
        self._failures = 0
        self._trial_in_flight = False

    def _record_outage(self, trial: bool) -> None:
        if trial:
            self._trial_in_flight = False
        self._failures += 1
        if self._failures >= self._threshold:
            self._opened_at = self._clock()

    def _release(self, trial: bool) -> None:
        if trial:
            self._trial_in_flight = False
