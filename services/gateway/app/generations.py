"""The tenant's index generation: a counter bumped whenever a gateway publishes a change of the
tenant's documents, so cached answers from before the change stop matching. With the shared store
(Valkey) every replica bumps and reads the same counter; without it, each replica its own.

Publishing is not indexing: the change becomes searchable a little later, through Kafka. While a
published change is pending, answers are not stored (they could be computed from the old index
and would then be served under the new generation). A change stops being pending when the
retriever's document state shows it settled (indexed, deleted or failed at that version), or
after ``settle_seconds`` when that state cannot be read.
Changes that do not pass through a gateway (events written to Kafka directly) are not seen; the
caches' TTL bounds how long they can be served stale.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from ragmesh_kit.domain import ACCEPTED
from ragmesh_kit.errors import RagmeshError
from services.gateway.app.ports import DocumentStates, GenerationStore

_log = logging.getLogger(__name__)
# Bounds the retriever calls one question can make while documents are pending.
MAX_STATE_CHECKS = 8


@dataclass(frozen=True)
class Generation:
    number: int
    # False while a published change may not be searchable yet: do not store answers.
    settled: bool
    # False while the generation cannot be read (shared store away): use no cached answer at all.
    known: bool = True


class IndexGenerations:
    def __init__(
        self,
        states: DocumentStates,
        settle_seconds: float,
        store: GenerationStore,
        clock: Callable[[], float] = time.time,  # epoch seconds: replicas compare each other's stamps
    ) -> None:
        self._states = states
        self._settle = settle_seconds
        self._store = store
        self._clock = clock

    async def changed(self, tenant_id: str, document_id: str, version: int) -> int | None:
        return await self._store.bump(tenant_id, document_id, version, self._clock())

    async def current(self, tenant_id: str) -> Generation:
        read = await self._store.read(tenant_id)
        if read is None:
            return Generation(0, settled=False, known=False)
        number, pending = read
        now = self._clock()
        checks = list(pending.items())[:MAX_STATE_CHECKS]

        async def settled(document_id: str, version: int, since: float) -> bool:
            return now - since >= self._settle or await self._settled(tenant_id, document_id, version)

        # Concurrently: right after a bulk submit, one question would otherwise wait for up to
        # MAX_STATE_CHECKS retriever round trips in a row.
        if not checks:
            return Generation(number, settled=True)
        done = await asyncio.gather(*(settled(d, version, since) for d, (version, since) in checks))
        for (document_id, (version, _)), is_settled in zip(checks, done, strict=True):
            if is_settled:
                # Removed only if still at that version: a newer change may have been published.
                await self._store.settle(tenant_id, document_id, version)
        # Read again: a change published while the states were read stays pending.
        after = await self._store.read(tenant_id)
        return Generation(number, settled=after is not None and not after[1])

    async def _settled(self, tenant_id: str, document_id: str, version: int) -> bool:
        try:
            status = await self._states.get_document_state(tenant_id, document_id)
        except RagmeshError as error:
            _log.debug("document state unknown", extra={"fields": {"reason": error.message}})
            return False
        return status is not None and status.version >= version and status.state != ACCEPTED
