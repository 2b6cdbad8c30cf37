"""The llm section of `make bench`: rows in the shape of the other sections (concurrency, ms), the
ratios and targets the issue sets, and the markdown beside the golden figures."""

from __future__ import annotations

from typing import Any

from bench import llm_report
from bench.llm import Run, _row, ratios


def _results(mesh8: float, ttft_ms: float) -> dict[str, Any]:
    rows = [
        {**_row(way, c, Run(tokens=64 * c, seconds=64 * c / rate, ttft=[0.5], cpu_seconds=1.0)), "way": way}
        for c in (1, 4, 8)
        for way, rate in (("in_process", 40.0), ("mesh", mesh8 if c == 8 else 38.0), ("naive", 20.0))
    ]
    rows[1]["ttft_p50_ms"] = ttft_ms  # mesh at c=1
    llm = {
        "model": "SmolLM2-135M-Instruct.Q4_1.gguf",
        "tokens_per_stream": 64,
        "repeats": 2,
        "prompt_tokens_mean": 150.0,
        "load_average_1m": 0.5,
        "load_average_1m_after": 1.5,
        "runs": rows,
    }
    golden = {
        "SmolLM2-135M-Instruct.Q4_1.gguf": {
            "fact_in_answer": {"plain": {"llm": 0.5, "extractive": 1.0}, "all": {"llm": 0.45, "extractive": 0.95}},
            "grounding_outcomes": {"grounded": 1, "sentences_dropped": 1, "extractive_fallback": 1},
            "llm_written_with_facts": "1/2",
            "ttft_p50_s": 0.5,
            "ttft_p95_s": 0.9,
            "decode_tokens_per_s_c1": 30.0,
            "prompt_tokens_mean": 150.0,
        }
    }
    return {"llm": llm, "llm_golden": golden}


def test_rows_have_the_shape_of_the_other_sections() -> None:
    row = _row("mesh", 8, Run(tokens=512, seconds=4.0, ttft=[0.4, 0.6, 2.0], cpu_seconds=8.0))
    assert row == {
        "way": "mesh",
        "concurrency": 8,
        "streams": 3,
        "tokens": 512,
        "tokens_per_s": 128.0,
        "tokens_per_cpu_s": 64.0,
        "ttft_p50_ms": 600.0,
        "ttft_p95_ms": 2000.0,
    }


def test_ratios_of_the_mesh_at_eight_streams() -> None:
    best = {(r["way"], r["concurrency"]): r for r in _results(36.0, 800)["llm"]["runs"]}
    assert ratios(best)["mesh_c8_vs_in_process_c8"] == 0.9
    assert ratios(best)["mesh_c8_vs_naive_c8"] == 1.8


def test_targets_met_and_missed() -> None:
    met = [row[3] for row in llm_report.targets(_results(36.0, 800))]
    assert met == [True, True, True]
    missed = [row[3] for row in llm_report.targets(_results(30.0, 1200))]
    assert missed == [False, True, False]
    assert llm_report.targets({}) == [] and llm_report.markdown({}) == []


def test_markdown_puts_llm_beside_extractive() -> None:
    text = "\n".join(llm_report.markdown(_results(36.0, 800)))
    assert "| mesh | 8 |" in text and "| naive | 1 |" in text
    assert "| plain | 0.5 | 1.0 |" in text and "1/2" in text
