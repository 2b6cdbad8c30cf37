"""compose.yaml (and the GPU override) against the compose-spec JSON schema, plus the wiring:
env names the settings read, images built from this repo's Dockerfiles, one Jaeger config."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import yaml

from tests.deploy.tooling import DEPLOY, SERVICES, compose_schema, settings_env_names

COMPOSE = DEPLOY / "compose"


def load(name: str) -> dict[str, Any]:
    return dict(yaml.safe_load((COMPOSE / name).read_text()))


@pytest.mark.parametrize("name", ["compose.yaml", "compose.gpu.yaml"])
def test_matches_compose_spec(name: str) -> None:
    validator_class = jsonschema.validators.validator_for(compose_schema())
    errors = [f"{list(e.path)}: {e.message}" for e in validator_class(compose_schema()).iter_errors(load(name))]
    assert not errors, "\n".join(errors)


def test_schema_rejects_an_unknown_key() -> None:
    compose = load("compose.yaml")
    compose["services"]["gateway"]["enviroment"] = {}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(compose, compose_schema())


def test_gpu_override_only_touches_triton() -> None:
    gpu = load("compose.gpu.yaml")
    assert set(gpu["services"]) == {"triton"}
    (device,) = gpu["services"]["triton"]["deploy"]["resources"]["reservations"]["devices"]
    assert device["capabilities"] == ["gpu"] and device["driver"] == "nvidia"
    assert "deploy" not in load("compose.yaml")["services"]["triton"]


@pytest.mark.parametrize("service", SERVICES)
def test_service_env_names_exist_in_settings(service: str) -> None:
    spec = load("compose.yaml")["services"][service]
    known = settings_env_names(service)
    unknown = sorted(k for k in spec["environment"] if k.upper() not in known)
    assert not unknown, f"{service}: env vars no settings field reads: {unknown}"


@pytest.mark.parametrize("service", [*SERVICES, "triton"])
def test_builds_from_repo_dockerfile(service: str) -> None:
    build = load("compose.yaml")["services"][service]["build"]
    assert (COMPOSE / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "docker" / f"{service}.Dockerfile"


@pytest.mark.parametrize("service", SERVICES)
def test_services_run_hardened(service: str) -> None:
    spec = load("compose.yaml")["services"][service]
    assert spec["read_only"] is True and "/tmp" in spec["tmpfs"]
    assert spec["cap_drop"] == ["ALL"]
    assert "user" not in spec  # the image's non-root USER applies


def test_wiring() -> None:
    services = load("compose.yaml")["services"]
    assert {"kafka", "kafka-init", "qdrant", "jaeger", "triton"} <= set(services)
    assert {"--load-model=minilm", "--load-model=generator", "--load-model=llm"} <= set(services["triton"]["command"])
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "ragmesh.documents.v1" in services["kafka-init"]["command"][0]
    assert services["retriever"]["environment"]["RETRIEVER_QDRANT_URL"] == "http://qdrant:6333"
    assert services["gateway"]["environment"]["GATEWAY_API_KEYS_FILE"] == "/run/secrets/api-keys"
    for service in ("gateway", "indexer"):
        assert services[service]["depends_on"]["kafka-init"]["condition"] == "service_completed_successfully"
    for service in SERVICES:
        assert services[service]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4317"
    assert services["jaeger"]["image"].split(":")[-1].startswith(("2.", "${JAEGER_IMAGE:-jaegertracing/jaeger:2."))


def test_dev_api_keys_are_hashes() -> None:
    for path in (COMPOSE / "dev-api-keys", DEPLOY / "k8s/base/secrets/dev-api-keys"):
        for line in path.read_text().splitlines():
            digest, tenant = line.split()
            assert len(digest) == 64 and int(digest, 16) >= 0 and tenant


def test_one_jaeger_config() -> None:
    assert (COMPOSE / "jaeger.yaml").read_text() == (DEPLOY / "k8s/base/jaeger/config.yaml").read_text()
    config = yaml.safe_load((COMPOSE / "jaeger.yaml").read_text())
    assert config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"] == "0.0.0.0:4317"


def test_gateways_share_valkey_and_balance_over_backends() -> None:
    services = load("compose.yaml")["services"]
    valkey = services["valkey"]
    assert valkey["image"].startswith("${VALKEY_IMAGE:-valkey/valkey:")  # the official image
    assert "--appendonly" in valkey["command"] and "valkey-data:/data" in valkey["volumes"]
    gateway = services["gateway"]
    assert gateway["environment"]["GATEWAY_VALKEY_URL"] == "valkey://valkey:6379/0"
    assert gateway["depends_on"]["valkey"]["condition"] == "service_healthy"
    # dns:/// targets: `--scale embedder=2` puts both containers behind the name, and the
    # callers' round-robin channels reach each.
    for caller, backends in {"gateway": ("embedder", "retriever", "generator"), "indexer": ("embedder",)}.items():
        for backend in backends:
            address = services[caller]["environment"][f"{caller.upper()}_{backend.upper()}_ADDR"]
            assert address.startswith(f"dns:///{backend}:"), address
