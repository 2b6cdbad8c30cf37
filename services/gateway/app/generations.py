"""The tenant's index generation: a counter this gateway bumps whenever it publishes a change of
the tenant's documents, so cached answers from before the change stop matching.

Publishing is not indexing: the change becomes searchable a little later, through Kafka. While a
published change is pending, answers are not stored (they could be computed from the old index
and would then be served under the new generation). A change stops being pending when the
retriever's document state shows it settled (indexed, deleted or failed at that version), or
after ``settle_seconds`` when that state cannot be read.
Changes that do not pass through this gateway (another replica, events written to Kafka
directly) are not seen here; the caches' TTL bounds how long they can be served stale.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ragmesh_kit.domain import ACCEPTED
from ragmesh_kit.errors import RagmeshError
from services.gateway.app.ports import DocumentStates

_log = logging.getLogger(__name__)
# Bounds the retriever calls one question can make while documents are pending.
MAX_STATE_CHECKS = 8


@dataclass
class _Tenant:
    generation: int = 0
    pending: dict[str, tuple[int, float]] = field(default_factory=dict)  # document -> (version, since)


@dataclass(frozen=True)
class Generation:
    number: int
    # False while a published change may not be searchable yet: do not store answers.
    settled: bool


class IndexGenerations:
    def __init__(
        self, states: DocumentStates, settle_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._states = states
        self._settle = settle_seconds
        self._clock = clock
        self._tenants: dict[str, _Tenant] = {}

    def changed(self, tenant_id: str, document_id: str, version: int) -> int:
        tenant = self._tenants.setdefault(tenant_id, _Tenant())
        tenant.generation += 1
        tenant.pending[document_id] = (version, self._clock())
        return tenant.generation

    async def current(self, tenant_id: str) -> Generation:
        tenant = self._tenants.setdefault(tenant_id, _Tenant())
        now = self._clock()
        checks = list(tenant.pending.items())[:MAX_STATE_CHECKS]

        async def settled(document_id: str, version: int, since: float) -> bool:
            return now - since >= self._settle or await self._settled(tenant_id, document_id, version)

        # Concurrently: right after a bulk submit, one question would otherwise wait for up to
        # MAX_STATE_CHECKS retriever round trips in a row.
        done = await asyncio.gather(*(settled(d, version, since) for d, (version, since) in checks))
        for (document_id, (version, _)), is_settled in zip(checks, done, strict=True):
            # A newer change of the same document may have been published while we waited.
            if is_settled and tenant.pending.get(document_id, (None, 0.0))[0] == version:
                del tenant.pending[document_id]
        return Generation(tenant.generation, settled=not tenant.pending)

    async def _settled(self, tenant_id: str, document_id: str, version: int) -> bool:
        try:
            status = await self._states.get_document_state(tenant_id, document_id)
        except RagmeshError as error:
            _log.debug("document state unknown", extra={"fields": {"reason": error.message}})
            return False
        return status is not None and status.version >= version and status.state != ACCEPTED
