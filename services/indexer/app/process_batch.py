"""Use case: one batch of document events off the topic, from raw payloads to "commit it" or "leave
it". The policy lives here, with no broker in sight: what is a poison message and at which stage it
is dead-lettered, retrying transient failures with backoff, and finding the guilty event one by one
when a batch is refused without saying which. The Kafka entrypoint translates records to payloads,
calls this, and commits when it says the batch is finished."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, RetryError, retry_if_exception, wait_exponential

from ragmesh_kit.document_events import decode_event
from ragmesh_kit.domain import DocumentCommand
from ragmesh_kit.errors import InvalidArgument, RagmeshError
from services.indexer.app.index_batch import Outcome, Scope

_log = logging.getLogger(__name__)
T = TypeVar("T")

IndexHandler = Callable[[Sequence[DocumentCommand], Scope], Awaitable[list[Outcome]]]
# Publishes the dead letter of the payload at a position: (position, stage, reason).
DeadLetterSender = Callable[[int, "DeadLetterStage", str], Awaitable[None]]


class DeadLetterStage(StrEnum):
    DECODE = "decode"  # not a DocumentEvent
    INDEX = "index"  # a valid event that cannot be indexed


@dataclass(frozen=True)
class RetryPolicy:
    initial_seconds: float
    max_seconds: float


@dataclass
class BatchResult:
    """``finished``: every payload indexed or dead-lettered, so the batch may be committed. False
    when the work was interrupted (stopping, or the partitions were taken away): leave it."""

    finished: bool
    commands: dict[int, DocumentCommand] = field(default_factory=dict)
    outcomes: dict[int, Outcome] = field(default_factory=dict)
    dead: dict[int, tuple[DeadLetterStage, str]] = field(default_factory=dict)


class ProcessBatch:
    def __init__(
        self,
        index: IndexHandler,
        retry: RetryPolicy,
        interrupt: asyncio.Event,
        on_retry: Callable[[str, float], None] = lambda reason, wait: None,
    ) -> None:
        self._index = index
        self._retry = retry
        self._interrupt = interrupt  # set: finish the attempt in hand, retry no more
        self._on_retry = on_retry

    async def __call__(
        self, payloads: Sequence[bytes], scope: Scope, send_dead_letter: DeadLetterSender
    ) -> BatchResult:
        """``scope(position)`` puts a payload's own trace span around work done for it."""
        result = BatchResult(finished=False)
        for position, payload in enumerate(payloads):
            try:
                result.commands[position] = decode_event(payload)
            except InvalidArgument as error:
                result.dead[position] = (DeadLetterStage.DECODE, error.message)
        positions = sorted(result.commands)
        commands = [result.commands[position] for position in positions]
        outcomes = await self._index_all(commands, lambda index: scope(positions[index]))
        if outcomes is None:
            return result
        for position, outcome in zip(positions, outcomes, strict=True):
            result.outcomes[position] = outcome
            if outcome.kind == "rejected":
                result.dead[position] = (DeadLetterStage.INDEX, outcome.reason)

        async def send_all() -> bool:
            # In source order: the dead-letter topic keeps the order of the documents topic.
            for position, (stage, reason) in sorted(result.dead.items()):
                await send_dead_letter(position, stage, reason)
            return True

        result.finished = await self._retrying(send_all) is not None
        return result

    async def _index_all(self, commands: list[DocumentCommand], scope: Scope) -> list[Outcome] | None:
        """Outcomes of the batch; None when interrupted."""
        try:
            return await self._retrying(lambda: self._index(commands, scope))
        except InvalidArgument:
            # Refused without saying which event is at fault: one by one, the guilty one is rejected.
            outcomes: list[Outcome] = []
            for position, command in enumerate(commands):
                try:
                    result = await self._retrying(self._one(command, scope, position))
                except InvalidArgument as error:
                    result = [Outcome("rejected", reason=error.message)]
                if result is None:
                    return None
                outcomes.extend(result)
            return outcomes

    def _one(self, command: DocumentCommand, scope: Scope, position: int) -> Callable[[], Awaitable[list[Outcome]]]:
        return lambda: self._index([command], lambda _: scope(position))

    async def _retrying(self, attempt: Callable[[], Awaitable[T]]) -> T | None:
        """Runs ``attempt`` until it succeeds, backing off (exponentially, capped) after transient
        failures; None once interrupted. InvalidArgument (the input's fault) propagates at once."""

        async def sleep(seconds: float) -> None:
            # A stop or a rebalance cuts the wait short.
            try:
                await asyncio.wait_for(self._interrupt.wait(), timeout=seconds)
            except TimeoutError:
                pass

        def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            reason = error.message if isinstance(error, RagmeshError) else repr(error)
            if not isinstance(error, RagmeshError):
                # A bug must not kill the consumer: logged with its traceback, and retried.
                _log.error("unexpected failure in batch", exc_info=error)
            wait = state.next_action.sleep if state.next_action else 0.0
            self._on_retry(reason, wait)
            _log.warning("transient failure, will retry", extra={"fields": {"reason": reason, "retry_in_s": wait}})

        retrying = AsyncRetrying(
            retry=retry_if_exception(lambda error: not isinstance(error, InvalidArgument)),
            # The first attempt always runs (a stop lets the batch in hand finish); then no more.
            stop=lambda state: self._interrupt.is_set(),
            wait=wait_exponential(multiplier=self._retry.initial_seconds, max=self._retry.max_seconds),
            sleep=sleep,
            before_sleep=before_sleep,
            reraise=False,
        )

        async def run() -> T:
            # A coroutine function, so tenacity awaits it (a lambda returning a coroutine it would not).
            return await attempt()

        try:
            return await retrying(run)
        except RetryError:
            return None
