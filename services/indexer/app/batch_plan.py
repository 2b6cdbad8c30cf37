"""Pure decisions of batch indexing (no I/O, unit-tested): which events of a batch are valid, which
one per document wins, whether a winner still applies given the document's recorded state, and how
documents are grouped so that bounded work is in memory at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ragmesh_kit.domain import DELETE, DELETED, INDEXED, DocumentCommand, DocumentStatus


@dataclass(frozen=True)
class Rejection:
    """Why an event can never be indexed (it goes to the dead-letter topic)."""

    reason: str


def rejection(command: DocumentCommand, max_chars: int, max_bytes: int = 2 * 1024 * 1024) -> Rejection | None:
    if command.operation == DELETE:
        return None
    if command.content:
        if command.text:
            return Rejection("send exactly one of text and content, not both")
        if len(command.content) > max_bytes:
            return Rejection(
                f"content is {len(command.content)} bytes; the limit is {max_bytes} (INDEXER_MAX_DOCUMENT_BYTES)"
            )
        return None
    if not command.text.strip():
        return Rejection("document text is empty")
    if len(command.text) > max_chars:
        return Rejection(f"document has {len(command.text)} characters; the limit is {max_chars}")
    return None


def latest_per_document(commands: Sequence[DocumentCommand]) -> dict[int, list[int]]:
    """Positions of the winning event per (tenant, document), each with the positions it supersedes.

    Events of one document share a partition, so the batch holds them in the order produced; the
    highest version wins and, for equal versions, the later event (a delete after an upsert of the
    same version removes it). Applying only the winner gives the same index as applying all in order.
    """
    winners: dict[tuple[str, str], int] = {}
    losers: dict[tuple[str, str], list[int]] = {}
    for position, command in enumerate(commands):
        key = (command.tenant_id, command.document_id)
        best = winners.get(key)
        if best is None:
            winners[key] = position
            losers[key] = []
        elif command.version >= commands[best].version:
            losers[key].append(best)
            winners[key] = position
        else:
            losers[key].append(position)
    return {position: sorted(losers[key]) for key, position in winners.items()}


def still_applies(command: DocumentCommand, recorded: DocumentStatus | None) -> bool:
    """False when the recorded state already covers this event: a newer version was indexed or
    deleted (a late, older event is ignored), or this very version is already done (a redelivery
    after a crash). A DELETED state thereby also keeps a late older upsert from resurrecting the
    document. ACCEPTED and FAILED say nothing about the index, so they never block indexing."""
    if recorded is None or recorded.state not in (INDEXED, DELETED):
        return True
    if recorded.version != command.version:
        return command.version > recorded.version
    # Same version: done already, except a delete of a version that is indexed.
    return command.operation == DELETE and recorded.state == INDEXED


def bounded_groups(sizes: Sequence[int], max_total: int) -> list[list[int]]:
    """Consecutive positions grouped so that each group's sizes sum to at most ``max_total`` (a single
    item larger than that forms its own group): at most one group's chunks and vectors are held."""
    groups: list[list[int]] = []
    current: list[int] = []
    total = 0
    for position, size in enumerate(sizes):
        if current and total + size > max_total:
            groups.append(current)
            current, total = [], 0
        current.append(position)
        total += size
    if current:
        groups.append(current)
    return groups
