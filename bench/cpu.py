"""CPU time each process of the stack spends during a load (user + system, children such as
Triton's Python-backend stubs included), read from /proc: where the cores go per request."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from ragmesh_devstack.processes import ProcessTable

_TICKS = os.sysconf("SC_CLK_TCK")


_PROC = Path("/proc")


def _stat(pid: int, proc: Path = _PROC) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a live process, None when it is gone."""
    try:
        raw = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    fields = raw[raw.rindex(")") + 2 :].split()
    # utime + stime, plus cutime + cstime: children that ended and were waited for.
    return int(fields[1]), sum(int(value) for value in fields[11:15]) / _TICKS


def process_tree_seconds(root: int, proc: Path = _PROC) -> float:
    """CPU seconds of ``root`` and every live descendant (ended, waited-for children are in their
    parent's cutime and cstime)."""
    parents: dict[int, int] = {}
    seconds: dict[int, float] = {}
    for entry in proc.iterdir():
        if entry.name.isdigit() and (found := _stat(int(entry.name), proc)) is not None:
            parents[int(entry.name)], seconds[int(entry.name)] = found
    total, queue = 0.0, [root]
    while queue:
        pid = queue.pop()
        total += seconds.get(pid, 0.0)
        queue.extend(child for child, parent in parents.items() if parent == pid)
    return total


def _own_seconds() -> float:
    # This process alone: the stack's processes may be its children.
    found = _stat(os.getpid())
    return found[1] if found else 0.0


class CpuMeter:
    """Measures CPU seconds per named process tree over a ``with meter.during():`` block."""

    def __init__(self, pids: Mapping[str, int]) -> None:
        self._pids = dict(pids)
        self.seconds: dict[str, float] = {}

    @classmethod
    def for_stack(cls, run_dir: Path) -> CpuMeter:
        """Every process the stack's process table runs now."""
        table = ProcessTable(run_dir)
        return cls({name: pid for name in table.names() if (pid := table.pid(name)) is not None})

    @contextmanager
    def during(self) -> Iterator[None]:
        before = {name: process_tree_seconds(pid) for name, pid in self._pids.items()}
        before["load generator"] = _own_seconds()
        yield
        after = {name: process_tree_seconds(pid) for name, pid in self._pids.items()}
        after["load generator"] = _own_seconds()
        self.seconds = {name: round(after[name] - before[name], 3) for name in after}

    def per_call_ms(self, calls: int) -> dict[str, float]:
        return {name: round(1000 * seconds / max(calls, 1), 2) for name, seconds in self.seconds.items()}
