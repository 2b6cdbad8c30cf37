"""The golden set's answerable questions answered by the llm path in-process, beside the extractive
answer on the same retrieved chunks: the generator's prompt, the llm model's evidence selection and
chat rendering (the code the Triton model runs), greedy decoding, the grounding guard, and the
extractive fallback when no sentence is left. Also the time to the first token and the decode rate
of one stream (c=1), so that models can be compared on quality and speed in one run.

``python -m bench.llm_golden [--gguf PATH ...]`` (default: the configured model); no ports, no stack."""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import golden
from bench.pipeline import GoldenPipeline
from ragmesh_answering import extractive
from ragmesh_kit.domain import ScoredChunk
from ragmesh_llm.engine import EngineConfig, Finish, LlamaEngine
from ragmesh_llm.models import default_gguf
from ragmesh_llm.options import SamplingOptions
from ragmesh_llm.prompting import DEFAULT_SYSTEM, Evidence, render
from services.generator.app.citations import extract_citations
from services.generator.app.grounding import GroundingGuard

# What the local stack's llm generator asks for (ragmesh_devstack.components) and the llm model's
# config.pbtxt defaults.
MAX_TOKENS = 64
STOP = ("\n\n",)
EVIDENCE_TOKENS = 160
EVIDENCE_SENTENCES = 6
EVIDENCE_THRESHOLD = 0.1
MIN_SUPPORT = 0.6


@dataclass(frozen=True)
class LlmSettings:
    max_tokens: int = MAX_TOKENS
    stop: tuple[str, ...] = STOP
    evidence_tokens: int = EVIDENCE_TOKENS
    evidence_sentences: int = EVIDENCE_SENTENCES
    system: str = DEFAULT_SYSTEM


class _Collect:
    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.first = 0.0
        self.text: list[str] = []
        self.finish: Finish | None = None
        self.done = threading.Event()
        self.error = ""

    def piece(self, text: str, finish: Finish | None) -> None:
        if not self.first:
            self.first = time.perf_counter() - self.started
        self.text.append(text)
        if finish is not None:
            self.finish = finish
            self.done.set()

    def fail(self, message: str, cancelled: bool) -> None:
        self.error = message
        self.done.set()

    def is_cancelled(self) -> bool:
        return False


def generate(engine: LlamaEngine, prompt_text: str, settings: LlmSettings) -> tuple[str, _Collect, int]:
    """The llm model's path for a prompt in the generator's layout: the raw answer, timings, prompt size."""
    parsed = extractive.parse_prompt(prompt_text)
    chosen = extractive.select(parsed, settings.evidence_sentences, EVIDENCE_THRESHOLD)
    evidence = [Evidence(item.source, item.text) for item in chosen]
    chat = render(engine.model, parsed.question, evidence, settings.evidence_tokens, settings.system)
    sink = _Collect()
    options = SamplingOptions(max_tokens=settings.max_tokens, stop=settings.stop)
    engine.submit(chat.tokens, options, sink, chat.prefix_len)
    sink.done.wait()
    if sink.error:
        raise RuntimeError(sink.error)
    return "".join(sink.text).strip(), sink, len(chat.tokens)


@dataclass
class Scored:
    llm: list[golden.Outcome]
    extractive: list[golden.Outcome]
    outcomes: dict[str, int]  # grounded / sentences_dropped / extractive_fallback
    written: list[bool]  # per answer the model wrote (the guard kept a sentence): the facts are in it
    ttft: list[float]
    decode_tokens_per_s: list[float]
    prompt_tokens: list[int]


async def score(models_dir: Path, gguf: str, settings: LlmSettings, verbose: bool = False) -> Scored:
    guard = GroundingGuard(MIN_SUPPORT)
    engine = LlamaEngine(EngineConfig(gguf))
    result = Scored([], [], {"grounded": 0, "sentences_dropped": 0, "extractive_fallback": 0}, [], [], [], [])
    try:
        with tempfile.TemporaryDirectory() as data:
            pipeline = await GoldenPipeline.build_titled(
                models_dir, {d["document_id"]: (d["title"], d["text"]) for d in golden.corpus()}, Path(data)
            )
            for q in golden.questions():
                if not q.answerable:
                    continue
                found: list[ScoredChunk] = (await pipeline.dense(q.question, 5))[:5]
                prompt = pipeline.prompts.build(q.question, found, pipeline.max_context_tokens)
                context = "\n\n".join(item.chunk.text for item in found)
                top = tuple(item.chunk.document_id for item in found)
                fallback = prompt.restore(extractive.answer(prompt.text)).strip()
                raw, sink, size = generate(engine, prompt.text, settings)
                raw = prompt.restore(raw)
                verdict = guard.check(raw, list(prompt.sources))
                if verdict.kept:
                    final = verdict.answer
                    result.outcomes["sentences_dropped" if verdict.dropped else "grounded"] += 1
                else:
                    final = fallback
                    result.outcomes["extractive_fallback"] += 1
                for answers, text in ((result.llm, final), (result.extractive, fallback)):
                    cited = tuple(c.document_id for c in extract_citations(text, prompt.sources))
                    answers.append(golden.Outcome(q, text, cited, top, (), context))
                if verdict.kept:
                    result.written.append(result.llm[-1].facts_found)
                result.ttft.append(sink.first)
                if sink.finish and sink.finish.completion_tokens > 1:
                    decode = time.perf_counter() - sink.started - sink.first
                    result.decode_tokens_per_s.append((sink.finish.completion_tokens - 1) / max(decode, 1e-9))
                result.prompt_tokens.append(size)
                if verbose:
                    print(f"[{q.category}] {q.question}\n  raw: {raw!r}\n  final: {final!r}", flush=True)
            await pipeline.store.close()
    finally:
        engine.close()
    return result


def figures(scored: Scored) -> dict[str, Any]:
    llm, ext = golden.summarize(scored.llm), golden.summarize(scored.extractive)
    return {
        "fact_in_answer": {
            name: {"llm": llm[name]["fact_in_answer"], "extractive": ext[name]["fact_in_answer"]}
            for name in llm
            if llm[name]["fact_in_answer"] is not None
        },
        "grounding_outcomes": scored.outcomes,
        # The model's own share: answers it wrote (not the fallback) that hold the expected facts.
        "llm_written_with_facts": f"{sum(scored.written)}/{len(scored.written)}",
        "ttft_p50_s": round(statistics.median(scored.ttft), 3),
        "ttft_p95_s": round(sorted(scored.ttft)[int(0.95 * (len(scored.ttft) - 1))], 3),
        "decode_tokens_per_s_c1": round(statistics.median(scored.decode_tokens_per_s), 1),
        "prompt_tokens_mean": round(statistics.mean(scored.prompt_tokens), 1),
    }


def markdown(results: dict[str, dict[str, Any]]) -> list[str]:
    """fact-in-answer of the llm path (guarded, with fallback) beside the extractive answer."""
    lines = ["## The llm generator on the golden set (answerable questions, in-process)", ""]
    for model, figs in results.items():
        rows: dict[str, dict[str, float]] = figs["fact_in_answer"]
        lines += [
            f"{model}: TTFT p50 {figs['ttft_p50_s']} s (c=1, {figs['prompt_tokens_mean']} prompt tokens), "
            f"decode {figs['decode_tokens_per_s_c1']} tokens/s; guard outcomes {figs['grounding_outcomes']}; "
            f"answers the model wrote that hold the facts: {figs['llm_written_with_facts']}",
            "",
            "| category | llm (guarded) | extractive |",
            "|---|---|---|",
        ]
        lines += [f"| {name} | {row['llm']} | {row['extractive']} |" for name, row in rows.items()]
        lines.append("")
    return lines


def run(models_dir: Path, ggufs: Sequence[str], settings: LlmSettings, verbose: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in ggufs:
        out[Path(path).name] = figures(asyncio.run(score(models_dir, path, settings, verbose)))
        print(json.dumps({Path(path).name: out[Path(path).name]}, indent=2), flush=True)
    return out


def main() -> int:
    from ragmesh_devstack.settings import StackSettings

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gguf", action="append", help="GGUF file(s) to score (default: the configured model)")
    parser.add_argument("--max-tokens", type=int, default=MAX_TOKENS)
    parser.add_argument("--evidence-tokens", type=int, default=EVIDENCE_TOKENS)
    parser.add_argument("--evidence-sentences", type=int, default=EVIDENCE_SENTENCES)
    parser.add_argument("--system", default=DEFAULT_SYSTEM, help="the system message")
    parser.add_argument("--stop", action="append", help="stop strings (default: a blank line)")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--out", type=Path, help="also write the figures here (JSON)")
    args = parser.parse_args()
    stop = tuple(item.encode().decode("unicode_escape") for item in args.stop) if args.stop else STOP
    settings = LlmSettings(args.max_tokens, stop, args.evidence_tokens, args.evidence_sentences, args.system)
    results = run(StackSettings().deps_dir / "models", args.gguf or [default_gguf()], settings, args.verbose)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
