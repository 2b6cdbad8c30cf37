"""The bench's before/after Ask comparison loads the extractive model of the commit before the
answer-quality work, from git history, under its own name beside today's "generator"."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.baseline import BASELINE_COMMIT, BASELINE_MODEL, BaselineUnavailable, write_baseline_model

ROOT = Path(__file__).resolve().parents[2]


def test_the_baseline_model_is_written_under_its_own_name(tmp_path: Path) -> None:
    write_baseline_model(ROOT, tmp_path)
    config = (tmp_path / BASELINE_MODEL / "config.pbtxt").read_text()
    assert f'name: "{BASELINE_MODEL}"' in config
    assert 'name: "generator"' not in config
    # The model of that commit: one module of extraction beside the Triton glue.
    assert "def " in (tmp_path / BASELINE_MODEL / "1/extractive.py").read_text()
    assert "TritonPythonModel" in (tmp_path / BASELINE_MODEL / "1/model.py").read_text()


def test_a_clone_without_the_commit_says_so(tmp_path: Path) -> None:
    (tmp_path / "clone").mkdir()
    with pytest.raises(BaselineUnavailable, match=BASELINE_COMMIT[:12]):
        write_baseline_model(tmp_path / "clone", tmp_path / "repository")
