"""Per-request sampling options (the names of vLLM's SamplingParams) and stop-string scanning."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

DEFAULT_MAX_TOKENS = 16
_KNOWN = {"max_tokens", "temperature", "top_p", "top_k", "min_p", "seed", "stop", "ignore_eos"}


class OptionsError(ValueError):
    """Bad sampling parameters: the client's fault (maps to INVALID_ARGUMENT)."""


@dataclass(frozen=True)
class SamplingOptions:
    max_tokens: int = DEFAULT_MAX_TOKENS
    temperature: float = 0.0  # 0: greedy
    top_p: float = 1.0
    top_k: int = 0  # 0 or -1: off
    min_p: float = 0.0
    seed: int | None = None
    stop: tuple[str, ...] = ()
    ignore_eos: bool = False


def _number(data: dict[str, Any], key: str, kind: type, low: float, high: float | None = None) -> Any:
    value = data[key]
    if isinstance(value, bool) or isinstance(value, list | dict):
        raise OptionsError(f"sampling_parameters.{key} must be a number, got {value!r}")
    try:
        number = float(value)
        if math.isnan(number) or math.isinf(number) or (kind is int and not number.is_integer()):
            raise ValueError
    except (TypeError, ValueError):
        wanted = "an integer" if kind is int else "a number"
        raise OptionsError(f"sampling_parameters.{key} must be {wanted}, got {value!r}") from None
    if number < low or (high is not None and number > high):
        bounds = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise OptionsError(f"sampling_parameters.{key} must be {bounds}, got {value!r}")
    return int(number) if kind is int else number


def parse_options(raw: str | bytes | None, max_tokens_limit: int = 4096) -> SamplingOptions:
    """Parses the ``sampling_parameters`` JSON. Numbers sent as strings are accepted (Triton's
    generate endpoint sends them so); unknown keys are ignored, as the vLLM backend does."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise OptionsError(f"sampling_parameters is not valid UTF-8: {exc}") from None
    if raw is None or not raw.strip():
        return SamplingOptions()
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise OptionsError(f"sampling_parameters is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise OptionsError("sampling_parameters must be a JSON object")
    data = {key: value for key, value in data.items() if key in _KNOWN and value is not None}
    stop = data.get("stop", ())
    if isinstance(stop, str):
        stop = (stop,)
    if not isinstance(stop, list | tuple) or not all(isinstance(item, str) and item for item in stop):
        raise OptionsError("sampling_parameters.stop must be a string or a list of non-empty strings")
    ignore_eos = data.get("ignore_eos", False)
    if ignore_eos not in (True, False, "true", "false", "True", "False"):
        raise OptionsError(f"sampling_parameters.ignore_eos must be a boolean, got {ignore_eos!r}")
    defaults = SamplingOptions()
    return SamplingOptions(
        max_tokens=_number(data, "max_tokens", int, 1, max_tokens_limit)
        if "max_tokens" in data
        else DEFAULT_MAX_TOKENS,
        temperature=_number(data, "temperature", float, 0.0, 100.0) if "temperature" in data else 0.0,
        top_p=_number(data, "top_p", float, 0.0, 1.0) if "top_p" in data else defaults.top_p,
        top_k=_number(data, "top_k", int, -1) if "top_k" in data else defaults.top_k,
        min_p=_number(data, "min_p", float, 0.0, 1.0) if "min_p" in data else defaults.min_p,
        seed=_number(data, "seed", int, 0, 2**32 - 2) if "seed" in data else None,
        stop=tuple(stop),
        ignore_eos=ignore_eos in (True, "true", "True"),
    )


@dataclass
class StopScanner:
    """Turns text deltas into what may be sent: text that could still become the start of a stop
    string is held back until it cannot; the output ends before the first stop string."""

    stop: tuple[str, ...]
    text: str = ""
    sent: int = 0
    stopped: bool = field(default=False)

    def feed(self, delta: str) -> str:
        self.text += delta
        if not self.stop:
            out, self.sent = self.text[self.sent :], len(self.text)
            return out
        # Search from a little before what was sent: a stop string may straddle the boundary.
        start = max(0, self.sent - max(len(item) for item in self.stop))
        hits = [index for index in (self.text.find(item, start) for item in self.stop) if index >= 0]
        if hits:
            cut = min(hits)
            self.stopped = True
            out = self.text[self.sent : cut]
            self.text, self.sent = self.text[:cut], cut
            return out
        hold = 0
        for item in self.stop:  # the longest suffix that is a proper prefix of a stop string
            for size in range(min(len(item) - 1, len(self.text) - self.sent), 0, -1):
                if self.text.endswith(item[:size]):
                    hold = max(hold, size)
                    break
        safe = len(self.text) - hold
        out = self.text[self.sent : safe]
        self.sent = max(self.sent, safe)
        return out

    def flush(self) -> str:
        out, self.sent = self.text[self.sent :], len(self.text)
        return out
