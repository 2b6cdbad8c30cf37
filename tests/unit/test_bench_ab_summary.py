"""bench.ab's summary: medians per side, B/A per figure, and with the naive service measured in the
same rounds, each side against it."""

from __future__ import annotations

from typing import Any

from bench.ab import summarize


def _round(variant: str, cpu: float, per_s: float, processes: dict[str, float] | None = None) -> dict[str, Any]:
    return {
        "variant": variant,
        "c1_p50_ms": 10.0,
        "c32_per_s": per_s,
        "cpu_ms_total": cpu,
        "cpu_ms_per_ask": processes or {"naive service": cpu},
    }


def test_summary_sets_each_side_against_the_naive_service() -> None:
    rounds = [
        _round("A", 12.0, 150.0, {"gateway": 3.0}),
        _round("B", 11.0, 160.0, {"gateway": 2.0}),
        _round("naive", 8.0, 170.0),
        _round("B", 10.0, 166.0, {"gateway": 2.2}),
        _round("A", 13.0, 140.0, {"gateway": 3.2}),
        _round("naive", 9.0, 150.0),
    ]
    table = summarize(rounds)
    assert table["cpu_ms_total"] == {
        "A": 12.5,
        "B": 10.5,
        "B/A": 0.84,
        "naive": 8.5,
        "A/naive": 1.471,
        "B/naive": 1.235,
    }
    assert table["c32_per_s"]["B/naive"] == round(163.0 / 160.0, 3)
    assert table["cpu:gateway"] == {"A": 3.1, "B": 2.1, "B/A": 0.677}


def test_summary_without_the_naive_service_compares_the_sides_only() -> None:
    table = summarize([_round("A", 12.0, 150.0, {"gateway": 3.0}), _round("B", 11.0, 160.0, {"gateway": 2.0})])
    assert table["cpu_ms_total"] == {"A": 12.0, "B": 11.0, "B/A": 0.917}
