"""Offline helpers of the deployment checks: kustomize rendering, the Kubernetes, KEDA and
compose-spec schemas (all from installed packages), and the env var names the settings accept.

Sources (no network at test time):
- Kubernetes schemas: PyPI ``kubernetes-validate`` (ships the JSON schemas of Kubernetes 1.25-1.37).
- KEDA ScaledObject: PyPI ``cloudcoil.models.keda`` (pydantic models generated from KEDA's CRDs),
  turned into a JSON schema that rejects unknown fields.
- compose-spec: the schema vendored in PyPI ``check-jsonschema``.
- kustomize: ``kustomize`` on PATH, else ``kubectl kustomize``, else the binary that
  ``make deploy-check`` builds from the Go module proxy into ~/.cache/ragmesh/tools.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import AliasChoices

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SERVICES = ("gateway", "embedder", "retriever", "generator", "indexer")
OVERLAYS = ("base", "overlays/gpu", "overlays/external-qdrant")
KUBERNETES_VERSION = "1.32.0"
KUSTOMIZE_CACHE = Path(os.environ.get("RAGMESH_CACHE", Path.home() / ".cache" / "ragmesh")) / "tools" / "kustomize"


def kustomize_command() -> list[str] | None:
    if path := shutil.which("kustomize"):
        return [path, "build"]
    if path := shutil.which("kubectl"):
        return [path, "kustomize"]
    if KUSTOMIZE_CACHE.is_file():
        return [str(KUSTOMIZE_CACHE), "build"]
    return None


def render(overlay: str) -> list[dict[str, Any]]:
    command = kustomize_command()
    if command is None:
        raise RuntimeError("no kustomize: install kubectl or run `make deploy-check` (builds kustomize)")
    out = subprocess.run([*command, str(DEPLOY / "k8s" / overlay)], check=True, capture_output=True, text=True)
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def _strict(node: Any) -> Any:
    """Adds additionalProperties: false to every object schema that lists its properties."""
    if isinstance(node, dict):
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            _strict(value)
    elif isinstance(node, list):
        for value in node:
            _strict(value)
    return node


@cache
def scaled_object_schema() -> dict[str, Any]:
    from cloudcoil.models.keda.v1alpha1 import ScaledObject

    schema = _strict(ScaledObject.model_json_schema(by_alias=True, mode="validation"))
    # The CRD's status is written by KEDA, never by us.
    schema["properties"].pop("status", None)
    return dict(schema)


@cache
def compose_schema() -> dict[str, Any]:
    text = resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json").read_text()
    return dict(json.loads(text))


def settings_env_names(service: str) -> set[str]:
    """Every env var name the service's settings class reads (upper case; pydantic-settings ignores case)."""
    module = importlib.import_module(f"services.{service}.settings")
    cls = next(
        value
        for name, value in vars(module).items()
        if name.endswith("Settings") and getattr(value, "__module__", "") == module.__name__
    )
    prefix = cls.model_config.get("env_prefix", "")
    names: set[str] = set()
    for field_name, field in cls.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(str(choice).upper() for choice in alias.choices)
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add(f"{prefix}{field_name}".upper())
    return names


def read_env_file(path: Path) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key] = value
    return pairs
