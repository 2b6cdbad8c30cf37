"""Token-by-token generation with a Hugging Face causal LM, for the Triton model "causal_lm".

Kept free of Triton imports; torch and transformers are imported only by ``load`` so the model can
load "unconfigured" in an environment without them.

Sampling parameters honoured (names as in vLLM): max_tokens (default 16), temperature (0 = greedy),
top_k, seed, stop (a string or a list of strings; the output ends before the first one and does not
contain it), ignore_eos. Other keys are accepted and ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

# The llm engine's error and stop-string scanner serve this model too (one behaviour for both).
from ragmesh_llm.options import OptionsError, StopScanner

__all__ = ["Cancelled", "LoadedModel", "Options", "OptionsError", "StopScanner", "parse_options"]

DEFAULT_MAX_TOKENS = 16


class Cancelled(Exception):
    def __init__(self, tokens: int) -> None:
        super().__init__(f"cancelled after {tokens} tokens")
        self.tokens = tokens


@dataclass(frozen=True)
class Options:
    max_tokens: int = DEFAULT_MAX_TOKENS
    temperature: float = 0.0
    top_k: int = 0
    seed: int | None = None
    stop: tuple[str, ...] = ()
    ignore_eos: bool = False


def _number(data: dict[str, Any], key: str, kind: type[int] | type[float], minimum: float) -> float:
    try:
        value: float = kind(data[key])
    except (TypeError, ValueError):
        raise OptionsError(f"sampling_parameters.{key} must be a number, got {data[key]!r}") from None
    if value < minimum:
        raise OptionsError(f"sampling_parameters.{key} must be >= {minimum}, got {value}")
    return value


def parse_options(raw: str | bytes | None) -> Options:
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="strict")
    data = json.loads(raw) if raw and raw.strip() else {}
    if not isinstance(data, dict):
        raise OptionsError("sampling_parameters must be a JSON object")
    stop = data.get("stop") or ()
    if isinstance(stop, str):
        stop = (stop,)
    if not isinstance(stop, list | tuple) or not all(isinstance(item, str) and item for item in stop):
        raise OptionsError("sampling_parameters.stop must be a string or a list of non-empty strings")
    ignore_eos = data.get("ignore_eos", False)
    return Options(
        max_tokens=int(_number(data, "max_tokens", int, 1)) if data.get("max_tokens") is not None else 16,
        temperature=float(_number(data, "temperature", float, 0.0)) if data.get("temperature") is not None else 0.0,
        top_k=int(_number(data, "top_k", int, -1)) if data.get("top_k") is not None else 0,
        seed=int(_number(data, "seed", int, 0)) if data.get("seed") is not None else None,
        stop=tuple(stop),
        ignore_eos=ignore_eos in (True, "true", "True", 1),
    )


class LoadedModel:
    def __init__(self, model_dir: str, threads: int) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch.set_num_threads(max(1, threads))
        self.torch = torch
        # local_files_only: never reach for the Hub, whatever the directory holds.
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
        self.model = AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True)
        self.model.eval()
        config = self.model.config
        self.max_positions = int(
            getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None) or 2048
        )
        self.eos = self.tokenizer.eos_token_id

    def tokens(self, prompt: str, options: Options, is_cancelled: Callable[[], bool]) -> Iterator[tuple[str, bool]]:
        """Yields (text delta, last) once per generated token; raises Cancelled when asked to stop."""
        torch = self.torch
        ids = self.tokenizer(prompt, return_tensors="pt").input_ids
        if ids.shape[1] == 0:
            start = self.tokenizer.bos_token_id if self.tokenizer.bos_token_id is not None else self.eos
            ids = torch.tensor([[start if start is not None else 0]])
        generator = torch.Generator().manual_seed(options.seed) if options.seed is not None else None
        budget = min(options.max_tokens, self.max_positions - ids.shape[1])
        if budget <= 0:
            raise OptionsError(f"the prompt has {ids.shape[1]} tokens; the model takes {self.max_positions}")
        generated: list[int] = []
        prefix, read = 0, 0  # incremental detokenisation window (as in vLLM)
        past, step_input = None, ids
        with torch.inference_mode():
            for step in range(budget):
                if is_cancelled():
                    raise Cancelled(step)
                out = self.model(input_ids=step_input, past_key_values=past, use_cache=True)
                past = out.past_key_values
                logits = out.logits[0, -1].float()
                token = self._pick(logits, options, generator)
                if token == self.eos and not options.ignore_eos:
                    yield "", True
                    return
                generated.append(token)
                before = self.tokenizer.decode(generated[prefix:read], skip_special_tokens=True)
                after = self.tokenizer.decode(generated[prefix:], skip_special_tokens=True)
                delta = ""
                if len(after) > len(before) and not after.endswith("\ufffd"):
                    delta = after[len(before) :]
                    prefix, read = read, len(generated)
                yield delta, step == budget - 1
                step_input = torch.tensor([[token]])

    def _pick(self, logits, options: Options, generator) -> int:  # type: ignore[no-untyped-def]
        torch = self.torch
        if options.temperature <= 0:
            return int(torch.argmax(logits))
        if options.top_k > 0:
            kth = torch.topk(logits, min(options.top_k, logits.shape[-1])).values[-1]
            logits = torch.where(logits < kth, torch.full_like(logits, float("-inf")), logits)
        probs = torch.softmax(logits / options.temperature, dim=-1)
        return int(torch.multinomial(probs, 1, generator=generator))
