from __future__ import annotations

import pytest

from ragmesh_kit.circuit_breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from ragmesh_kit.errors import DependencyUnavailable


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_consecutive_failures_and_fails_fast() -> None:
    clock = Clock()
    breaker = CircuitBreaker("triton", failure_threshold=3, reset_seconds=5, clock=clock)
    for _ in range(3):
        breaker.before_call()
        breaker.failed()
    assert breaker.state == OPEN
    with pytest.raises(DependencyUnavailable, match="circuit open"):
        breaker.before_call()


def test_one_trial_after_the_cool_down_then_closes_on_success() -> None:
    clock = Clock()
    breaker = CircuitBreaker("triton", failure_threshold=2, reset_seconds=5, clock=clock)
    breaker.failed()
    breaker.failed()
    clock.now += 5
    assert breaker.state == HALF_OPEN
    breaker.before_call()  # the trial
    with pytest.raises(DependencyUnavailable):
        breaker.before_call()  # a second caller while the trial runs
    breaker.succeeded()
    assert breaker.state == CLOSED
    breaker.before_call()


def test_a_failed_trial_reopens_for_another_cool_down() -> None:
    clock = Clock()
    breaker = CircuitBreaker("triton", failure_threshold=1, reset_seconds=5, clock=clock)
    breaker.failed()
    clock.now += 5
    breaker.before_call()
    breaker.failed()
    assert breaker.state == OPEN
    clock.now += 4.9
    assert breaker.state == OPEN


def test_successes_reset_the_failure_count() -> None:
    breaker = CircuitBreaker("triton", failure_threshold=2)
    breaker.failed()
    breaker.succeeded()
    breaker.failed()
    assert breaker.state == CLOSED
