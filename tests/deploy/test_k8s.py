"""Renders every kustomize overlay and validates it offline: Kubernetes JSON schemas (strict), the
KEDA ScaledObject against a schema from its CRD models, and ragmesh's own rules (probes,
non-root, read-only root, env names that the settings classes really read)."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from ragmesh_kit.server import LIVENESS_SERVICE
from tests.deploy.tooling import (
    KUBERNETES_VERSION,
    OVERLAYS,
    SERVICES,
    kustomize_command,
    render,
    scaled_object_schema,
    settings_env_names,
)

pytestmark = pytest.mark.skipif(kustomize_command() is None, reason="no kustomize/kubectl; run make deploy-check")
PORTS = {"gateway": 50051, "embedder": 50052, "retriever": 50053, "generator": 50054, "indexer": 50055}


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {overlay: render(overlay) for overlay in OVERLAYS}


def find(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def configmap(docs: list[dict[str, Any]], prefix: str) -> dict[str, Any]:
    # configMapGenerator appends a content hash to the name.
    matches = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith(f"{prefix}-")]
    assert len(matches) == 1, prefix
    return matches[0]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_manifests_match_kubernetes_schemas(rendered: dict[str, list[dict[str, Any]]], overlay: str) -> None:
    errors = []
    for doc in rendered[overlay]:
        if doc["apiVersion"].startswith("keda.sh/"):
            continue
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']} {list(error.path)}: {error.message}")
    assert not errors, "\n".join(errors)


def test_strict_schema_catches_a_typo(rendered: dict[str, list[dict[str, Any]]]) -> None:
    deployment = copy.deepcopy(find(rendered["base"], "Deployment", "gateway"))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["grpcc"] = {"port": 1}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_scaled_object_matches_keda_crd(rendered: dict[str, list[dict[str, Any]]]) -> None:
    schema = scaled_object_schema()
    scaled = find(rendered["base"], "ScaledObject", "indexer")
    jsonschema.validate(scaled, schema)
    broken = copy.deepcopy(scaled)
    broken["spec"]["maxReplicas"] = 3  # the CRD says maxReplicaCount
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)
    assert scaled["spec"]["scaleTargetRef"]["name"] == "indexer"
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "kafka"
    assert trigger["metadata"]["topic"] == "ragmesh.documents.v1"
    assert trigger["metadata"]["consumerGroup"] == "ragmesh-indexer"
    # KEDA reads the bootstrap address from the indexer container's env; it must exist there.
    indexer_env = configmap(rendered["base"], "indexer-env")["data"]
    assert trigger["metadata"]["bootstrapServersFromEnv"] in indexer_env
    assert indexer_env["INDEXER_CONSUMER_GROUP"] == trigger["metadata"]["consumerGroup"]
    assert indexer_env["INDEXER_DOCUMENTS_TOPIC"] == trigger["metadata"]["topic"]
    assert "replicas" not in find(rendered["base"], "Deployment", "indexer")["spec"]


def test_gateway_hpa(rendered: dict[str, list[dict[str, Any]]]) -> None:
    hpa = find(rendered["base"], "HorizontalPodAutoscaler", "gateway")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "gateway"}
    assert hpa["spec"]["minReplicas"] >= 2


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_service_deployment(rendered: dict[str, list[dict[str, Any]]], overlay: str, service: str) -> None:
    docs = rendered[overlay]
    pod = find(docs, "Deployment", service)["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    port = PORTS[service]
    assert container["readinessProbe"]["grpc"]["port"] == port
    assert container["livenessProbe"]["grpc"]["port"] == port
    # Readiness follows the dependencies (service ""), liveness only the process: a Triton outage
    # must not restart every pod.
    assert container["readinessProbe"]["grpc"].get("service", "") == ""
    assert container["livenessProbe"]["grpc"]["service"] == LIVENESS_SERVICE
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    # The service must listen on all interfaces, on the port its probes and Service use.
    env = {}
    for source in container["envFrom"]:
        env.update(
            next(
                d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == source["configMapRef"]["name"]
            )["data"]
        )
    prefix = service.upper()
    assert env[f"{prefix}_HOST"] == "0.0.0.0"  # noqa: S104 - a container listens on all interfaces
    assert int(env.get(f"{prefix}_PORT", port)) == port
    svc = find(docs, "Service", service)
    assert {p["port"] for p in svc["spec"]["ports"]} >= {port}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_configmap_env_names_exist_in_settings(rendered: dict[str, list[dict[str, Any]]], overlay: str) -> None:
    docs = rendered[overlay]
    shared = set(configmap(docs, "ragmesh-shared-env")["data"])
    for service in SERVICES:
        known = settings_env_names(service)
        keys = set(configmap(docs, f"{service}-env")["data"]) | shared
        container = find(docs, "Deployment", service)["spec"]["template"]["spec"]["containers"][0]
        keys |= {e["name"] for e in container.get("env", [])}
        unknown = sorted(k for k in keys if k.upper() not in known)
        assert not unknown, f"{overlay} {service}: env vars no settings field reads: {unknown}"


def test_gateway_reads_the_api_key_secret(rendered: dict[str, list[dict[str, Any]]]) -> None:
    docs = rendered["base"]
    pod = find(docs, "Deployment", "gateway")["spec"]["template"]["spec"]
    mounts = {m["name"]: m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    secret_volume = next(v for v in pod["volumes"] if "secret" in v)
    secret = find(docs, "Secret", secret_volume["secret"]["secretName"])
    key_file = configmap(docs, "gateway-env")["data"]["GATEWAY_API_KEYS_FILE"]
    directory, _, name = key_file.rpartition("/")
    assert mounts[secret_volume["name"]] == directory
    assert name in secret["data"]


def test_qdrant_statefulset_in_base(rendered: dict[str, list[dict[str, Any]]]) -> None:
    docs = rendered["base"]
    qdrant = find(docs, "StatefulSet", "qdrant")
    assert qdrant["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "storage"
    assert configmap(docs, "retriever-env")["data"]["RETRIEVER_QDRANT_URL"] == "http://qdrant:6333"
    find(docs, "Service", "qdrant")


def test_external_qdrant_overlay(rendered: dict[str, list[dict[str, Any]]]) -> None:
    docs = rendered["overlays/external-qdrant"]
    assert not [d for d in docs if d["metadata"]["name"].startswith("qdrant")]
    url = configmap(docs, "retriever-env")["data"]["RETRIEVER_QDRANT_URL"]
    assert url.startswith("https://") and "qdrant:6333" not in url
    container = find(docs, "Deployment", "retriever")["spec"]["template"]["spec"]["containers"][0]
    (api_key,) = container["env"]
    assert api_key["name"] == "RETRIEVER_QDRANT_API_KEY" and "secretKeyRef" in api_key["valueFrom"]


def test_gpu_only_in_gpu_overlay(rendered: dict[str, list[dict[str, Any]]]) -> None:
    def triton_resources(overlay: str) -> dict[str, Any]:
        pod = find(rendered[overlay], "Deployment", "triton")["spec"]["template"]["spec"]
        return dict(pod["containers"][0]["resources"])

    assert "nvidia.com/gpu" not in triton_resources("base")["limits"]
    gpu = triton_resources("overlays/gpu")
    assert gpu["limits"]["nvidia.com/gpu"] == "1"
    assert gpu["requests"]["nvidia.com/gpu"] == "1"


def test_triton_serves_both_models_traced(rendered: dict[str, list[dict[str, Any]]]) -> None:
    container = find(rendered["base"], "Deployment", "triton")["spec"]["template"]["spec"]["containers"][0]
    assert "--model-repository=/models" in container["args"]
    assert {"--load-model=minilm", "--load-model=generator", "--load-model=llm"} <= set(container["args"])
    assert "--trace-config=opentelemetry,url=jaeger:4318/v1/traces" in container["args"]
    # Triton's own spans start off (2.51-25.04 crash under traced load); they are switched on at run time.
    assert "--trace-config=level=OFF" in container["args"]
    assert {p["containerPort"] for p in container["ports"]} == {8000, 8001, 8002}
    # Every probe asks the gRPC port the services call, not the HTTP health that can outlive it.
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["grpc"]["port"] == 8001, probe


BACKENDS = {"embedder": 50052, "retriever": 50053, "generator": 50054}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_backends_are_headless_and_callers_balance_over_them(
    rendered: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    """Callers reach every pod of a backend: the Service is headless (its name resolves to each ready
    pod) and the callers' addresses are dns:/// targets (round-robin channels, ragmesh_kit.channels).
    A ClusterIP would pin each long-lived HTTP/2 connection to one pod."""
    docs = rendered[overlay]
    for name, port in BACKENDS.items():
        service = find(docs, "Service", name)
        assert service["spec"].get("clusterIP") == "None", f"{name}: not headless"
        assert port in {p["port"] for p in service["spec"]["ports"]}
    for caller, backends in {"gateway": BACKENDS, "indexer": ("embedder", "retriever")}.items():
        env = configmap(docs, f"{caller}-env")["data"]
        for name in backends:
            assert env[f"{caller.upper()}_{name.upper()}_ADDR"] == f"dns:///{name}:{BACKENDS[name]}"


def test_valkey_statefulset_backs_the_gateways_shared_state(rendered: dict[str, list[dict[str, Any]]]) -> None:
    docs = rendered["base"]
    valkey = find(docs, "StatefulSet", "valkey")
    assert valkey["spec"]["replicas"] == 1
    pod = valkey["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"].startswith("valkey/valkey:")  # the official image
    assert "--appendonly" in container["args"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert mounts["/data"] in {claim["metadata"]["name"] for claim in valkey["spec"]["volumeClaimTemplates"]}
    assert "exec" in container["readinessProbe"]
    service = find(docs, "Service", "valkey")
    (port,) = service["spec"]["ports"]
    url = configmap(docs, "gateway-env")["data"]["GATEWAY_VALKEY_URL"]
    assert url == f"valkey://{service['metadata']['name']}:{port['port']}/0"
