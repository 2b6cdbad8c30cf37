"""The physical limit of the embedding model: the same ONNX file and code in-process, batch 32,
same threads as the Triton model; and int8 vs fp32 (speed ratio, cosine on real sentences)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ragmesh_models.encoder import OnnxSentenceEncoder

MINILM_CONFIG = Path(__file__).resolve().parents[1] / "models/triton/minilm/config.pbtxt"


def minilm_parameters() -> dict[str, str]:
    """The string parameters of the Triton model's config.pbtxt (key -> string_value)."""
    text = MINILM_CONFIG.read_text()
    return dict(re.findall(r'key:\s*"([^"]+)"\s*value:\s*\{\s*string_value:\s*"([^"]*)"', text))


def encoder(models_dir: Path, variant: str = "int8", threads: int = 2) -> OnnxSentenceEncoder:
    """Threads for small work as the Triton model's config sets them (small_work_threads,
    small_work_tokens), so in-process and naive run the embedding exactly as Triton does."""
    parameters = minilm_parameters()
    return OnnxSentenceEncoder(
        str(models_dir / f"minilm-{variant}.onnx"),
        str(models_dir / "tokenizer.json"),
        threads,
        small_threads=int(parameters.get("small_work_threads", threads)),
        small_tokens=int(parameters.get("small_work_tokens", 1024)),
    )


def sentences_per_second(model: OnnxSentenceEncoder, texts: list[str], batch: int = 32, seconds: float = 8.0) -> float:
    model.embed(texts[:batch])  # warm-up
    done = 0
    started = time.perf_counter()
    index = 0
    while time.perf_counter() - started < seconds:
        part = texts[index : index + batch] or texts[:batch]
        model.embed(part)
        done += len(part)
        index = (index + batch) % max(len(texts) - batch, 1)
    return done / (time.perf_counter() - started)


def embed_all(model: OnnxSentenceEncoder, texts: list[str], batch: int = 64) -> NDArray[np.float32]:
    return np.concatenate([model.embed(texts[i : i + batch]) for i in range(0, len(texts), batch)])


def quantization(models_dir: Path, texts: list[str]) -> dict[str, float]:
    int8, fp32 = encoder(models_dir, "int8"), encoder(models_dir, "fp32")
    sample = texts[:512]
    cosine = np.sum(embed_all(int8, sample) * embed_all(fp32, sample), axis=1)
    # Interleaved rounds: a slow spell of the shared machine then hits both variants alike.
    int8_rates, fp32_rates = [], []
    for _ in range(4):
        int8_rates.append(sentences_per_second(int8, texts, seconds=1.5))
        fp32_rates.append(sentences_per_second(fp32, texts, seconds=1.5))
    int8_rate, fp32_rate = float(np.mean(int8_rates)), float(np.mean(fp32_rates))
    return {
        "int8_sentences_per_s": round(int8_rate, 1),
        "fp32_sentences_per_s": round(fp32_rate, 1),
        "speed_ratio": round(int8_rate / fp32_rate, 3),
        "cosine_mean": round(float(cosine.mean()), 4),
        "cosine_min": round(float(cosine.min()), 4),
        "sentences": len(sample),
    }
