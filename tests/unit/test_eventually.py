from __future__ import annotations

import itertools

import pytest

from tests.eventually import eventually, eventually_async


def test_returns_the_first_truthy_result() -> None:
    counter = itertools.count()
    assert eventually(lambda: next(counter) >= 3 and "done", "the counter", timeout=5, interval=0) == "done"


def test_fails_naming_what_was_awaited_and_the_last_result() -> None:
    with pytest.raises(AssertionError, match=r"the marker: not seen within 0s \(last: \[\]\)"):
        eventually(list, "the marker", timeout=0.05, interval=0.01)


def test_a_failing_assertion_is_retried_then_raised() -> None:
    calls = itertools.count()

    def check() -> bool:
        assert next(calls) > 1_000_000, "still failing"
        return True

    with pytest.raises(AssertionError, match="still failing"):
        eventually(check, "the check", timeout=0.05, interval=0.01)
    assert next(calls) > 2


async def test_the_async_form_awaits_the_check_with_the_same_message() -> None:
    counter = itertools.count()

    async def check() -> str | bool:
        return next(counter) >= 3 and "done"

    assert await eventually_async(check, "the counter", timeout=5, interval=0) == "done"

    async def nothing() -> list[int]:
        return []

    with pytest.raises(AssertionError, match=r"the marker: not seen within 0s \(last: \[\]\)"):
        await eventually_async(nothing, "the marker", timeout=0.05, interval=0.01)


def test_a_failure_other_than_an_assertion_ends_the_wait_at_once() -> None:
    calls = itertools.count()

    def check() -> bool:
        next(calls)
        pytest.fail("the process exited")

    with pytest.raises(pytest.fail.Exception, match="the process exited"):
        eventually(check, "the process", timeout=5, interval=0.01)
    assert next(calls) == 1
