"""The real local stack (Kafka, Jaeger, Triton, Qdrant engine, five services), started once per
test session with the same code as `make up`, as instance "test" on its own ports and a fresh data
directory, so it never collides with a developer's running stack."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from ragmesh.gateway.v1 import gateway_pb2_grpc
from ragmesh_devstack import stack
from ragmesh_devstack.jaeger import JaegerQuery
from ragmesh_devstack.settings import StackSettings

ROOT = Path(__file__).resolve().parents[2]
# Every port of the test instance is the default shifted by RAGMESH_TEST_PORT_SHIFT (10000), so
# several test stacks (and a developer's own) can run side by side.
PORT_SHIFT = int(os.environ.get("RAGMESH_TEST_PORT_SHIFT", "10000"))
TEST_PORTS = {
    name: default.default + PORT_SHIFT
    for name, default in StackSettings.model_fields.items()
    if name.endswith("_port") and isinstance(default.default, int)
}


@dataclass(frozen=True)
class RunningStack:
    settings: StackSettings
    keys: dict[str, str]

    @property
    def api_key(self) -> str:
        return self.keys["RAGMESH_API_KEY"]

    @property
    def api_key_tenant_b(self) -> str:
        return self.keys["RAGMESH_API_KEY_TENANT_B"]

    def address(self, service: str) -> str:
        return f"127.0.0.1:{getattr(self.settings, f'{service}_port')}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/stack/" in str(item.fspath):
            item.add_marker(pytest.mark.stack)


@pytest.fixture(scope="session")
def running_stack() -> Iterator[RunningStack]:
    # No supervisor: fault tests kill parts on purpose and decide when they come back;
    # test_supervisor.py starts one for itself.
    settings = StackSettings(
        root=ROOT, instance=f"test-{PORT_SHIFT}", supervise=False, **TEST_PORTS  # type: ignore[arg-type]
    )
    stack.down(settings)  # leftovers of an interrupted session
    shutil.rmtree(settings.run_dir / "data", ignore_errors=True)
    try:
        keys = stack.up(settings)
    except stack.StartFailed as error:
        stack.down(settings)
        pytest.fail(f"the local stack did not start: {error}", pytrace=False)
    yield RunningStack(settings, keys)
    stack.down(settings)


@pytest.fixture(scope="session")
def gateway(running_stack: RunningStack) -> Iterator[gateway_pb2_grpc.GatewayServiceStub]:
    with grpc.insecure_channel(running_stack.address("gateway")) as channel:
        yield gateway_pb2_grpc.GatewayServiceStub(channel)


@pytest.fixture(scope="session")
def jaeger(running_stack: RunningStack) -> JaegerQuery:
    return JaegerQuery(f"http://127.0.0.1:{running_stack.settings.jaeger_query_port}")


@pytest.fixture(scope="session")
def auth(running_stack: RunningStack) -> list[tuple[str, str]]:
    return [("x-api-key", running_stack.api_key)]
