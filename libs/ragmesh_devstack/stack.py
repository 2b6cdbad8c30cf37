"""`up`, `down` and `status` of the local stack."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import Sequence

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from ragmesh_devstack import components
from ragmesh_devstack.components import Component
from ragmesh_devstack.processes import ProcessTable
from ragmesh_devstack.settings import StackSettings
from ragmesh_kit.document_events import TOPIC_CONFIGS, TOPIC_PARTITIONS

TOPICS = TOPIC_PARTITIONS
DEV_TENANTS = {"RAGMESH_API_KEY": "default", "RAGMESH_API_KEY_TENANT_B": "tenant-b"}


class StartFailed(RuntimeError):
    pass


def stages(settings: StackSettings) -> list[list[Component]]:
    """Components in start order; those of one stage start together."""
    services = {component.name: component for component in components.services(settings)}
    return [
        [
            components.kafka(settings),
            components.jaeger(settings),
            components.triton(settings),
            components.valkey(settings),
        ],
        [services["retriever"], services["embedder"], services["generator"]],
        [services["gateway"], services["indexer"]],
    ]


async def _create_topics(settings: StackSettings) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=f"127.0.0.1:{settings.kafka_port}")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name, partitions, 1, topic_configs=TOPIC_CONFIGS.get(name, {}))
            for name, partitions in TOPICS.items()
            if name not in existing
        ]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


def dev_env(settings: StackSettings) -> dict[str, str]:
    """What `up` wrote to .run/dev.env (GATEWAY_ADDR, the dev API keys, JAEGER_QUERY_URL); empty
    before the first `up`. The one reader of that file."""
    env_file = settings.run_dir / "dev.env"
    if not env_file.exists():
        return {}
    return dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)


def _dev_keys(settings: StackSettings) -> dict[str, str]:
    """API keys for local use, made once; only their SHA-256 digests reach the gateway."""
    env_file = settings.run_dir / "dev.env"
    values = dev_env(settings)
    if not all(name in values for name in DEV_TENANTS):
        values.update({name: f"rmk_{secrets.token_hex(16)}" for name in DEV_TENANTS})
    values["GATEWAY_ADDR"] = f"127.0.0.1:{settings.gateway_port}"
    values["JAEGER_QUERY_URL"] = f"http://127.0.0.1:{settings.jaeger_query_port}"
    env_file.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    (settings.run_dir / "api-keys").write_text(
        "".join(
            f"{hashlib.sha256(values[name].encode()).hexdigest()} {tenant}\n" for name, tenant in DEV_TENANTS.items()
        )
    )
    return values


def _wait_ready(table: ProcessTable, stage: Sequence[Component], timeout: float) -> None:
    pending = {component.name: component for component in stage}
    deadline = time.monotonic() + timeout
    while pending:
        for name, component in list(pending.items()):
            if table.exited(name):
                raise StartFailed(f"{name} exited during start-up. Last log lines:\n{table.tail(name)}")
            if component.ready():
                del pending[name]
        if pending and time.monotonic() > deadline:
            name = sorted(pending)[0]
            raise StartFailed(f"{name} not ready after {timeout:.0f}s. Last log lines:\n{table.tail(name)}")
        time.sleep(0.25)


def up(settings: StackSettings) -> dict[str, str]:
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    table = ProcessTable(settings.run_dir)
    keys = _dev_keys(settings)
    for stage in stages(settings):
        for component in stage:
            if table.pid(component.name) is None:
                if component.prepare is not None:
                    component.prepare()
                table.start(component.spec)
        _wait_ready(table, stage, settings.start_timeout_seconds)
        if any(component.name == "kafka" for component in stage):
            asyncio.run(_create_topics(settings))
    if settings.supervise:
        table.start(components.supervisor(settings).spec)
    return keys


def down(settings: StackSettings) -> list[str]:
    table = ProcessTable(settings.run_dir)
    stopped: list[str] = []
    if table.stop("supervisor"):  # first, or it would restart what is being stopped
        stopped.append("supervisor")
    for stage in reversed(stages(settings)):
        for component in stage:
            if table.stop(component.name):
                stopped.append(component.name)
    return stopped


def status(settings: StackSettings) -> dict[str, str]:
    table = ProcessTable(settings.run_dir)
    report: dict[str, str] = {}
    for stage in stages(settings):
        for component in stage:
            pid = table.pid(component.name)
            if pid is None:
                report[component.name] = "stopped"
            else:
                report[component.name] = f"pid {pid}, " + ("ready" if component.ready() else "NOT READY")
    if settings.supervise:
        pid = table.pid("supervisor")
        report["supervisor"] = f"pid {pid}, ready" if pid is not None else "stopped"
    return report
