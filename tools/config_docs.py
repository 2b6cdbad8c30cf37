"""Writes docs/configuration.md from the settings classes themselves (names, defaults) and the
comments beside their fields (meaning), so the table cannot drift from the code:
`python -m tools.config_docs` rewrites it, and a unit test compares."""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
from pathlib import Path

from pydantic_settings import BaseSettings

from ragmesh_kit.settings import ServiceSettings

SERVICES = ("gateway", "embedder", "retriever", "generator", "indexer")
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "configuration.md"


def _comments(cls: type) -> dict[str, str]:
    """Field name -> the comment lines just above it (and a trailing comment on its line)."""
    lines, _ = inspect.getsourcelines(cls)
    tree = ast.parse(inspect.getsource(cls))
    found: dict[str, str] = {}
    group = ""  # the comment block above a run of fields with no blank line between them
    previous_line = -2
    for node in tree.body[0].body:  # type: ignore[attr-defined]
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            index = node.lineno - 1
            above: list[str] = []
            line = index - 1
            while line >= 0 and lines[line].strip().startswith("#"):
                above.insert(0, lines[line].strip().lstrip("#").strip())
                line -= 1
            if above:
                group = " ".join(above)
            elif node.lineno - 1 != previous_line:
                group = ""
            inline = lines[index].split("#", 1)[1].strip() if "#" in lines[index] else ""
            found[node.target.id] = " ".join(p for p in (group, inline) if p).replace("|", "\\|")
            previous_line = node.end_lineno or node.lineno
    return found


_KNOWN = {
    "service_name": "Service name in traces, logs and metrics.",
    "host": "Address to listen on (0.0.0.0 in containers).",
    "port": "gRPC port (the service, grpc.health.v1 and reflection).",
    "log_level": "Log level of the JSON log lines on stdout.",
    "max_request_bytes": "Largest request message accepted; larger ones get RESOURCE_EXHAUSTED.",
    "tls_key_file": "Private key (PEM) of tls_cert_file.",
    "tls_client_ca_file": "CA of the client certificates to require (turns on mutual TLS).",
    "tls_client_cert_file": "Client certificate (PEM) presented to dependencies that require one.",
    "tls_client_key_file": "Private key (PEM) of tls_client_cert_file.",
    "tls_outbound": "Dependencies reached over TLS when tls_ca_file is set: * or a comma list.",
    "kafka_bootstrap": "Kafka bootstrap servers (host:port, comma separated).",
    "documents_topic": "Kafka topic of DocumentEvents.",
    "dead_letter_topic": "Kafka topic for events that cannot be indexed (reason in headers).",
    "consumer_group": "Kafka consumer group shared by the indexer processes.",
    "triton_url": "Triton gRPC address (host:port).",
    "triton_model": "Triton model to call.",
    "tokenizer_encoding": "tiktoken encoding used to count tokens.",
    "dimension": "Embedding dimension (must match the model and the store).",
    "collection": "Qdrant collection of the chunks (server mode).",
    "qdrant_api_key": "API key of the Qdrant server (server mode).",
    "temperature": "Sampling temperature sent to the generation model (0: greedy).",
    "embed_concurrency": "Embed calls in flight per batch (keeps Triton's dynamic batcher fed).",
    "max_candidates": "Candidates fetched before per-document diversity trims them to top_k.",
}


def _meaning(name: str, comment: str) -> str:
    if comment:
        return comment
    if name in _KNOWN:
        return _KNOWN[name]
    words = name.replace("_", " ")
    if name.endswith("_addr"):
        return f"host:port of the {name.removesuffix('_addr')} service."
    if name.endswith("_timeout_seconds"):
        return f"Deadline in seconds of each {name.removesuffix('_timeout_seconds').replace('_', ' ')} call."
    if name.startswith("max_"):
        return f"Limit: {words.removeprefix('max ')}; beyond it a request is refused with a clear status."
    if name.startswith("default_"):
        return f"{words.removeprefix('default ').capitalize()} when a request leaves it 0."
    return words.capitalize() + "."


def _env_name(cls: type[BaseSettings], name: str) -> str:
    field = cls.model_fields[name]
    alias = field.validation_alias
    choices = getattr(alias, "choices", None)
    if choices:
        return str(choices[0])
    prefix = str(cls.model_config.get("env_prefix", ""))
    return f"{prefix}{name}".upper()


def _default(cls: type[BaseSettings], name: str) -> str:
    value = cls.model_fields[name].default
    return f"`{value}`" if value not in ("", None) else "(empty)"


def render() -> str:
    shared = _comments(ServiceSettings)
    out = [
        "# Configuration",
        "",
        "Every setting is an environment variable read by the service's one settings class",
        "(`services/<name>/settings.py`, pydantic-settings). Generated by",
        "`python -m tools.config_docs` from those classes; a unit test keeps it current.",
        "",
        "## Shared by every service (prefix `<SERVICE>_`, e.g. `GATEWAY_PORT`)",
        "",
        "| variable | default | meaning |",
        "|---|---|---|",
    ]
    for name in ServiceSettings.model_fields:
        env = _env_name(ServiceSettings, name)
        env = env if not env.startswith("RAGMESH_") else "<SERVICE>_" + name.upper()
        out.append(f"| `{env}` | {_default(ServiceSettings, name)} | {_meaning(name, shared.get(name, ''))} |")
    for service in SERVICES:
        module = importlib.import_module(f"services.{service}.settings")
        cls = next(
            obj
            for obj in vars(module).values()
            if inspect.isclass(obj) and issubclass(obj, ServiceSettings) and obj is not ServiceSettings
        )
        comments = {**shared, **_comments(cls)}
        out += ["", f"## {service} (`{cls.__name__}`)", "", "| variable | default | meaning |", "|---|---|---|"]
        own = [name for name in cls.model_fields if name in cls.__annotations__]
        for name in own:
            meaning = _meaning(name, comments.get(name, ""))
            out.append(f"| `{_env_name(cls, name)}` | {_default(cls, name)} | {meaning} |")
    return "\n".join(out) + "\n"


def main() -> int:
    OUT.write_text(render())
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
