"""Keeps the local stack alive: a process `up` starts last, which watches every other part and
restarts one that has exited, or that has stopped answering its readiness check for
``supervise_grace_seconds`` (a tritonserver whose gRPC frontend died while its process and HTTP
health lived on is the case that made this necessary)."""

from __future__ import annotations

import json
import logging
import signal
import sys
import time
from dataclasses import dataclass

from ragmesh_devstack import stack
from ragmesh_devstack.components import Component
from ragmesh_devstack.processes import ProcessTable
from ragmesh_devstack.settings import StackSettings

_log = logging.getLogger("ragmesh.supervisor")


@dataclass
class _Watch:
    component: Component
    failing_since: float | None = None


def _event(message: str, **fields: object) -> None:
    _log.info(json.dumps({"event": message, **fields}, sort_keys=True))


class Supervisor:
    def __init__(self, settings: StackSettings) -> None:
        self._settings = settings
        self._table = ProcessTable(settings.run_dir)
        self._watches = [_Watch(component) for stage in stack.stages(settings) for component in stage]
        self._stopping = False

    def stop(self, *_: object) -> None:
        self._stopping = True

    def check_once(self, now: float) -> list[str]:
        """One round: returns the names of the parts restarted."""
        restarted: list[str] = []
        for watch in self._watches:
            name = watch.component.name
            if self._table.exited(name):
                reason = "exited"
            elif (watch.component.alive or watch.component.ready)():
                watch.failing_since = None
                continue
            else:
                watch.failing_since = watch.failing_since or now
                if now - watch.failing_since < self._settings.supervise_grace_seconds:
                    continue
                reason = f"not ready for {now - watch.failing_since:.0f}s"
            _event("restarting", component=name, reason=reason)
            # A part that answers nothing will not drain either: a short SIGTERM, then SIGKILL.
            self._table.stop(name, timeout_seconds=3)
            if watch.component.prepare is not None:
                watch.component.prepare()
            self._table.start(watch.component.spec)
            # The fresh process gets the whole grace period, counted from its start, to be ready.
            watch.failing_since = time.monotonic()
            restarted.append(name)
        return restarted

    def run(self) -> None:
        _event("watching", components=[watch.component.name for watch in self._watches])
        while not self._stopping:
            self.check_once(time.monotonic())
            deadline = time.monotonic() + self._settings.supervise_interval_seconds
            while not self._stopping and time.monotonic() < deadline:
                time.sleep(0.1)
        _event("stopped")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stdout)
    supervisor = Supervisor(StackSettings())
    signal.signal(signal.SIGTERM, supervisor.stop)
    signal.signal(signal.SIGINT, supervisor.stop)
    supervisor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
