"""The indexer's batch policy without a broker: poison messages, transient failures with backoff,
the one-by-one search for a refused event, interruption. The index port is a plain function here;
the real-broker behaviour is in tests/stack/test_ingestion*.py."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import nullcontext

import pytest

from ragmesh_kit.document_events import encode_event
from ragmesh_kit.domain import UPSERT, DocumentCommand
from ragmesh_kit.errors import DependencyUnavailable, InvalidArgument
from services.indexer.app.index_batch import Outcome, Scope
from services.indexer.app.process_batch import DeadLetterStage, ProcessBatch, RetryPolicy

FAST = RetryPolicy(initial_seconds=0.001, max_seconds=0.004)


def _payload(document_id: str) -> bytes:
    return encode_event(DocumentCommand(UPSERT, "acme", document_id, version=1, title="t", text="some text"))


def _scope(position: int) -> nullcontext[None]:
    return nullcontext()


class Index:
    """The index port: fails as told, then indexes each command as one chunk."""

    def __init__(self, transient_failures: int = 0, refuses: str = "", rejects: str = "") -> None:
        self.transient_failures = transient_failures
        self.refuses = refuses  # a batch holding this document is refused as a whole
        self.rejects = rejects  # this document gets a "rejected" outcome
        self.calls: list[list[str]] = []

    async def __call__(self, commands: Sequence[DocumentCommand], scope: Scope) -> list[Outcome]:
        self.calls.append([command.document_id for command in commands])
        if self.transient_failures:
            self.transient_failures -= 1
            raise DependencyUnavailable("embedder: not there")
        if self.refuses in [command.document_id for command in commands]:
            raise InvalidArgument("a chunk is malformed")
        return [
            Outcome("rejected", reason="too long") if c.document_id == self.rejects else Outcome("indexed", chunks=1)
            for c in commands
        ]


class DeadLetters:
    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.sent: list[tuple[int, DeadLetterStage, str]] = []

    async def __call__(self, position: int, stage: DeadLetterStage, reason: str) -> None:
        if self.failures:
            self.failures -= 1
            raise DependencyUnavailable("kafka: broker away")
        self.sent.append((position, stage, reason))


async def test_a_payload_that_is_no_event_is_dead_lettered_at_decode_and_the_rest_indexed() -> None:
    index, dead = Index(), DeadLetters()
    result = await ProcessBatch(index, FAST, asyncio.Event())(
        [_payload("a"), b"\xff junk", _payload("c")], _scope, dead
    )
    assert result.finished
    assert [(position, stage) for position, stage, _ in dead.sent] == [(1, DeadLetterStage.DECODE)]
    assert index.calls == [["a", "c"]]
    assert {position: outcome.kind for position, outcome in result.outcomes.items()} == {0: "indexed", 2: "indexed"}


async def test_transient_failures_are_retried_with_backoff() -> None:
    retries: list[str] = []
    index = Index(transient_failures=3)
    process = ProcessBatch(index, FAST, asyncio.Event(), on_retry=lambda reason, wait: retries.append(reason))
    result = await process([_payload("a")], _scope, DeadLetters())
    assert result.finished and len(index.calls) == 4
    assert retries == ["embedder: not there"] * 3


async def test_a_refused_batch_is_redone_one_by_one_and_only_the_guilty_event_dead_lettered() -> None:
    index, dead = Index(refuses="b"), DeadLetters()
    result = await ProcessBatch(index, FAST, asyncio.Event())([_payload(d) for d in "abc"], _scope, dead)
    assert result.finished
    assert index.calls == [["a", "b", "c"], ["a"], ["b"], ["c"]]
    assert dead.sent == [(1, DeadLetterStage.INDEX, "a chunk is malformed")]
    assert [result.outcomes[p].kind for p in range(3)] == ["indexed", "rejected", "indexed"]


async def test_a_rejected_outcome_is_dead_lettered_at_index() -> None:
    dead = DeadLetters(failures=2)  # and the dead-letter topic is briefly away: retried too
    result = await ProcessBatch(Index(rejects="a"), FAST, asyncio.Event())([_payload("a")], _scope, dead)
    assert result.finished and dead.sent == [(0, DeadLetterStage.INDEX, "too long")]


async def test_an_interrupt_leaves_the_batch_unfinished_and_sends_nothing() -> None:
    interrupt = asyncio.Event()
    index = Index(transient_failures=1_000)
    dead = DeadLetters()
    slow = RetryPolicy(initial_seconds=30, max_seconds=30)
    task = asyncio.create_task(ProcessBatch(index, slow, interrupt)([_payload("a"), b"junk"], _scope, dead))
    await asyncio.sleep(0.05)  # the first attempt failed; the retry waits 30 s
    interrupt.set()
    result = await asyncio.wait_for(task, timeout=5)  # the wait is cut short
    assert not result.finished and dead.sent == [] and len(index.calls) == 2


@pytest.mark.parametrize("error", [ValueError("bug"), KeyError("bug")])
async def test_an_unexpected_error_is_retried_not_fatal(error: Exception) -> None:
    calls = 0

    async def flaky(commands: Sequence[DocumentCommand], scope: Scope) -> list[Outcome]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise error
        return [Outcome("indexed", chunks=1)]

    result = await ProcessBatch(flaky, FAST, asyncio.Event())([_payload("a")], _scope, DeadLetters())
    assert result.finished and calls == 2
