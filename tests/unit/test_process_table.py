"""`make down` stops a part with everything it started: a child that ignores SIGTERM (as Triton's
backend stubs do while busy) does not outlive its leader."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ragmesh_devstack.processes import ProcessSpec, ProcessTable
from tests.eventually import eventually

CHILD = "import os, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); " \
    "open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(300)"  # fmt: skip
LEADER = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', sys.argv[1], sys.argv[2]]); " \
    "time.sleep(300)"  # fmt: skip


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_stop_ends_children_that_ignore_sigterm(tmp_path: Path) -> None:
    table = ProcessTable(tmp_path)
    marker = tmp_path / "child.pid"
    table.start(ProcessSpec("part", [sys.executable, "-c", LEADER, CHILD, str(marker)]))
    child = int(eventually(lambda: marker.read_text() if marker.exists() else None, "the child started"))
    assert _alive(child)
    assert table.stop("part", timeout_seconds=5)
    assert not _alive(child), "the child outlived its leader"
    assert table.exited("part")
