"""The benchmark's CPU meter reads a process tree's CPU from /proc: live children included (Triton's
backend stubs are children of tritonserver), ended children through their parent's cutime/cstime,
other processes not. Checked on a /proc tree written here, so the figures are exact."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.cpu import process_tree_seconds

TICKS = os.sysconf("SC_CLK_TCK")


def _write_stat(proc: Path, pid: int, parent: int, utime: int, stime: int, cutime: int = 0, cstime: int = 0) -> None:
    # Fields after the command name: state ppid pgrp session tty tpgid flags minflt cminflt majflt
    # cmajflt utime stime cutime cstime ...; the name may hold spaces and parentheses.
    rest = ["S", parent, pid, pid, 0, -1, 0, 0, 0, 0, 0, utime, stime, cutime, cstime, 20, 0, 1, 0]
    (proc / str(pid)).mkdir()
    (proc / str(pid) / "stat").write_text(f"{pid} (triton stub (3.11)) " + " ".join(map(str, rest)) + "\n")


@pytest.fixture
def proc(tmp_path: Path) -> Path:
    _write_stat(tmp_path, 1, 0, 5, 5)
    _write_stat(tmp_path, 100, 1, 2 * TICKS, TICKS, cutime=TICKS, cstime=TICKS)  # the root, ended children
    _write_stat(tmp_path, 101, 100, TICKS, 0)  # a live child
    _write_stat(tmp_path, 102, 101, 0, TICKS)  # a live grandchild
    _write_stat(tmp_path, 200, 1, 7 * TICKS, 0)  # not in the tree
    (tmp_path / "self").mkdir()  # not a pid: ignored
    return tmp_path


def test_a_tree_counts_itself_its_ended_and_live_descendants(proc: Path) -> None:
    assert process_tree_seconds(100, proc) == pytest.approx(2 + 1 + 1 + 1 + 1 + 1)


def test_a_leaf_counts_only_itself(proc: Path) -> None:
    assert process_tree_seconds(102, proc) == pytest.approx(1)


def test_a_process_that_is_gone_counts_nothing(proc: Path) -> None:
    assert process_tree_seconds(999, proc) == 0.0
