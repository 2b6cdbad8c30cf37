"""The request options of the extractive model (``sampling_parameters`` JSON)."""

from __future__ import annotations

import json
import math
from typing import Any

DEFAULT_MAX_SENTENCES = 3
DEFAULT_RELEVANCE_THRESHOLD = 0.3


class OptionsError(ValueError):
    pass


def parse_sampling_parameters(raw: str | bytes | None, defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    """Parse the ``sampling_parameters`` JSON. Returns a dict with the honoured keys.

    Honoured: max_tokens (int >= 1, cap on streamed pieces/words), max_sentences (int >= 1),
    relevance_threshold (float in [0, 1]), piece_delay_ms (float >= 0), piece_granularity ("sentence",
    the default, or "word"). Other keys (temperature, top_p,
    ...) are accepted and ignored, as an extractive model has no sampling. Numbers given as strings are
    accepted (Triton's generate endpoint sends them that way).
    """
    out = {
        "max_tokens": None,
        "max_sentences": DEFAULT_MAX_SENTENCES,
        "relevance_threshold": DEFAULT_RELEVANCE_THRESHOLD,
        "piece_delay_ms": 0.0,
        "piece_granularity": "sentence",
    }
    if defaults:
        out.update(defaults)
    if raw is None:
        return out
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise OptionsError(f"sampling_parameters is not valid UTF-8: {exc}") from None
    if not raw.strip():
        return out
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise OptionsError(f"sampling_parameters is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise OptionsError("sampling_parameters must be a JSON object")
    if data.get("max_tokens") is not None:
        out["max_tokens"] = _number(data, "max_tokens", int, minimum=1)
    if data.get("max_sentences") is not None:
        out["max_sentences"] = _number(data, "max_sentences", int, minimum=1)
    if data.get("relevance_threshold") is not None:
        out["relevance_threshold"] = _number(data, "relevance_threshold", float, minimum=0.0, maximum=1.0)
    if data.get("piece_delay_ms") is not None:
        out["piece_delay_ms"] = _number(data, "piece_delay_ms", float, minimum=0.0, maximum=60000.0)
    if data.get("piece_granularity") is not None:
        if data["piece_granularity"] not in ("sentence", "word"):
            raise OptionsError("sampling_parameters.piece_granularity must be 'sentence' or 'word'")
        out["piece_granularity"] = data["piece_granularity"]
    return out


def _number(
    data: dict[str, Any],
    key: str,
    kind: type[int] | type[float],
    minimum: float | None = None,
    maximum: float | None = None,
) -> float:
    value = data[key]
    number: float
    if isinstance(value, bool):
        raise OptionsError(f"sampling_parameters.{key} must be a number, got {value!r}")
    try:
        if kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            number = int(value) if not isinstance(value, str) else int(value.strip())
        else:
            number = float(value)
            if math.isnan(number) or math.isinf(number):
                raise ValueError
    except (TypeError, ValueError):
        raise OptionsError(
            f"sampling_parameters.{key} must be {'an integer' if kind is int else 'a number'}, got {value!r}"
        ) from None
    if minimum is not None and number < minimum:
        raise OptionsError(f"sampling_parameters.{key} must be >= {minimum}, got {number}")
    if maximum is not None and number > maximum:
        raise OptionsError(f"sampling_parameters.{key} must be <= {maximum}, got {number}")
    return number
