"""The Triton model repository of the local stack: the repo's model sources copied into .run/,
with the models' packages and the built artifacts (the ONNX encoder, its tokenizer) linked in."""

from __future__ import annotations

import shutil
from pathlib import Path

from ragmesh_devstack.settings import StackSettings


def build_model_repository(settings: StackSettings) -> Path:
    """Copies the repo's model sources into .run/ and links in the built artifacts. causal_lm is
    left out unless a model folder is configured (it needs torch, from the model-build venv)."""
    repository = settings.run_dir / "model-repository"
    shutil.rmtree(repository, ignore_errors=True)
    skipped: tuple[str, ...] = () if settings.causal_lm_model_dir else ("causal_lm",)
    if not settings.llm_enabled:
        skipped += ("llm",)
    shutil.copytree(
        settings.root / "models/triton",
        repository,
        ignore=shutil.ignore_patterns("__pycache__", "*.onnx", "tokenizer.json", *skipped),
    )
    link_model_packages(settings.root, repository)
    artifacts = settings.deps_dir / "models"
    # "rerank" scores sentences with the same encoder as "minilm".
    for model in ("minilm", "rerank"):
        version_dir = repository / model / "1"
        (version_dir / "model.onnx").symlink_to((artifacts / "minilm-int8.onnx").resolve())
        (version_dir / "tokenizer.json").symlink_to((artifacts / "tokenizer.json").resolve())
    if settings.causal_lm_model_dir:
        config = repository / "causal_lm" / "config.pbtxt"
        environment = (settings.deps_dir / "model-build-venv").resolve()
        model_dir = Path(settings.causal_lm_model_dir).resolve()
        text = config.read_text().replace(
            'key: "hf_model_dir"\n  value: { string_value: "" }',
            f'key: "hf_model_dir"\n  value: {{ string_value: "{model_dir}" }}',
        )
        config.write_text(
            text + f'parameters: {{\n  key: "EXECUTION_ENV_PATH"\n  value: {{ string_value: "{environment}" }}\n}}\n'
        )
    return repository


# The models import these as plain packages; the Python backend's stub puts each model's version
# folder on sys.path (and runs isolated from PYTHONPATH), so every version folder gets a link.
MODEL_PACKAGES = ("ragmesh_models", "ragmesh_answering", "ragmesh_llm")


def link_model_packages(root: Path, repository: Path) -> None:
    for version_dir in sorted(repository.glob("*/1")):
        for package in MODEL_PACKAGES:
            (version_dir / package).symlink_to((root / "libs" / package).resolve(), target_is_directory=True)
