from __future__ import annotations

import asyncio

import pytest

from ragmesh_kit.circuit_breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from ragmesh_kit.errors import DependencyUnavailable


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Outage(Exception):
    pass


class BadRequest(Exception):
    pass


def is_outage(error: BaseException) -> bool:
    return isinstance(error, Outage)


def fail(breaker: CircuitBreaker, times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(Outage), breaker.guard(is_outage):
            raise Outage


def succeed(breaker: CircuitBreaker) -> None:
    with breaker.guard(is_outage):
        pass


def half_open_breaker(clock: Clock) -> CircuitBreaker:
    breaker = CircuitBreaker("triton", failure_threshold=2, reset_seconds=5, clock=clock)
    fail(breaker, 2)
    clock.now += 5
    assert breaker.state == HALF_OPEN
    return breaker


def test_opens_after_consecutive_outages_and_fails_fast() -> None:
    clock = Clock()
    breaker = CircuitBreaker("triton", failure_threshold=3, reset_seconds=5, clock=clock)
    fail(breaker, 3)
    assert breaker.state == OPEN
    with pytest.raises(DependencyUnavailable, match="circuit open"), breaker.guard(is_outage):
        pass


def test_one_trial_after_the_cool_down_then_closes_on_success() -> None:
    breaker = half_open_breaker(Clock())
    with breaker.guard(is_outage):  # the trial
        with pytest.raises(DependencyUnavailable), breaker.guard(is_outage):
            pass  # a second caller while the trial runs is refused
    assert breaker.state == CLOSED
    succeed(breaker)


def test_a_failed_trial_reopens_for_another_cool_down() -> None:
    clock = Clock()
    breaker = half_open_breaker(clock)
    fail(breaker)
    assert breaker.state == OPEN
    clock.now += 4.9
    assert breaker.state == OPEN


def test_successes_reset_the_failure_count() -> None:
    breaker = CircuitBreaker("triton", failure_threshold=2)
    fail(breaker)
    succeed(breaker)
    fail(breaker)
    assert breaker.state == CLOSED


def test_a_bad_request_neither_counts_nor_holds_the_trial() -> None:
    clock = Clock()
    breaker = half_open_breaker(clock)
    with pytest.raises(BadRequest), breaker.guard(is_outage):
        raise BadRequest
    # The trial was released without a verdict: still half-open, and the next caller is the trial.
    assert breaker.state == HALF_OPEN
    for later in (3, 10, 1000):
        clock.now += later
        succeed(breaker)
    assert breaker.state == CLOSED


async def test_a_cancelled_trial_is_released() -> None:
    breaker = half_open_breaker(Clock())
    started = asyncio.Event()

    async def trial() -> None:
        with breaker.guard(is_outage):
            started.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(trial())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    succeed(breaker)
    assert breaker.state == CLOSED


def test_an_early_success_is_final() -> None:
    """A stream proves the dependency up with its first response; what happens to the consumer
    afterwards (it stops reading, it is cancelled) changes nothing."""
    breaker = half_open_breaker(Clock())
    with pytest.raises(GeneratorExit), breaker.guard(is_outage) as call:
        call.succeeded()
        raise GeneratorExit
    assert breaker.state == CLOSED
