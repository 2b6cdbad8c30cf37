"""Background processes with pid files and logs under .run/; `down` stops only what `up` started."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


def _reap(pid: int) -> None:
    """Collects the exit status of a child that has ended (a zombie still answers kill(pid, 0))."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass  # not our child (started by an earlier `make up` or the supervisor)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _group_alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _zombie(pid: int) -> bool:
    """An ended process that its parent has not collected yet: it answers kill(pid, 0) but is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].startswith("Z")


@dataclass
class ProcessSpec:
    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None


class ProcessTable:
    def __init__(self, run_dir: Path) -> None:
        self._run_dir = run_dir
        (run_dir / "logs").mkdir(parents=True, exist_ok=True)
        (run_dir / "pids").mkdir(parents=True, exist_ok=True)

    def log_path(self, name: str) -> Path:
        return self._run_dir / "logs" / f"{name}.log"

    def _pid_path(self, name: str) -> Path:
        return self._run_dir / "pids" / f"{name}.pid"

    def pid(self, name: str) -> int | None:
        path = self._pid_path(name)
        if not path.exists():
            return None
        try:
            pid = int(path.read_text().strip())
            _reap(pid)
            os.kill(pid, 0)
            if _zombie(pid):
                raise ProcessLookupError(pid)
        except (ValueError, ProcessLookupError, PermissionError):
            path.unlink(missing_ok=True)
            return None
        return pid

    def names(self) -> list[str]:
        return sorted(path.stem for path in (self._run_dir / "pids").glob("*.pid"))

    def start(self, spec: ProcessSpec) -> int:
        existing = self.pid(spec.name)
        if existing is not None:
            return existing
        log = self.log_path(spec.name).open("ab")
        process = subprocess.Popen(
            spec.command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **spec.env},
            cwd=spec.cwd,
            start_new_session=True,
        )
        log.close()
        self._pid_path(spec.name).write_text(str(process.pid))
        return process.pid

    def exited(self, name: str) -> bool:
        return self.pid(name) is None

    def stop(self, name: str, timeout_seconds: float = 20.0) -> bool:
        """SIGTERM (graceful drain), then SIGKILL after the timeout. True if it was running."""
        pid = self.pid(name)
        if pid is None:
            return False
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            _reap(pid)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            _kill_group(pid)
        # The leader gone, its group may still hold children that ignore SIGTERM: Triton's backend
        # stubs, busy with a queued batch, outlived tritonserver and burned CPU after `make down`.
        stragglers_until = time.monotonic() + 5
        while _group_alive(pid) and time.monotonic() < stragglers_until:
            time.sleep(0.1)
        _kill_group(pid)
        gone_until = time.monotonic() + 2
        while _group_alive(pid) and time.monotonic() < gone_until:
            time.sleep(0.05)
        self._pid_path(name).unlink(missing_ok=True)
        return True

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.log_path(name)
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
