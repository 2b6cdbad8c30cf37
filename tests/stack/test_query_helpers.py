"""Helpers of the query-path stack tests (no tests here): extra gateway/generator processes
beside the session's stack (own settings, same launch code as `make up`), metrics, documents."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

import grpc
import pytest

from ragmesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ragmesh_devstack import components
from ragmesh_devstack.processes import ProcessTable
from tests.eventually import eventually
from tests.net import free_port
from tests.stack.conftest import RunningStack

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden"


@dataclass(frozen=True)
class ExtraService:
    label: str
    port: int
    metrics_port: int
    log: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as reply:
            return str(reply.read().decode())


@contextmanager
def extra_service(
    stack: RunningStack,
    name: str,
    label: str,
    env: dict[str, str],
    started: Callable[[int], bool] = components.grpc_serving,
) -> Iterator[ExtraService]:
    """Starts one more service (process name ``label``), waits until ``started(port)`` (by
    default: health SERVING) and stops it afterwards."""
    port, metrics_port = free_port(), free_port()
    settings = stack.settings.model_copy(update={f"{name}_metrics_port": metrics_port})
    component = components.python_service(settings, name, port, env)
    table = ProcessTable(settings.run_dir)
    table.stop(label)  # leftovers of an interrupted run
    table.start(replace(component.spec, name=label))

    def serving() -> bool:
        if table.exited(label):
            pytest.fail(f"{label} exited:\n{table.tail(label)}")
        assert started(port), table.tail(label)
        return True

    try:
        eventually(serving, f"{label} serving", timeout=60)
        yield ExtraService(label, port, metrics_port, table.log_path(label))
    finally:
        table.stop(label)


def gateway_env(stack: RunningStack, generator_address: str | None = None, **extra: str) -> dict[str, str]:
    s = stack.settings
    return {
        "GATEWAY_EMBEDDER_ADDR": stack.address("embedder"),
        "GATEWAY_RETRIEVER_ADDR": stack.address("retriever"),
        "GATEWAY_GENERATOR_ADDR": generator_address or stack.address("generator"),
        "GATEWAY_KAFKA_BOOTSTRAP": f"127.0.0.1:{s.kafka_port}",
        "GATEWAY_API_KEYS_FILE": str(s.run_dir / "api-keys"),
        **extra,
    }


def metric_value(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        series, _, value = line.rpartition(" ")
        head, _, label_text = series.partition("{")
        if head != name:
            continue
        if all(f'{key}="{wanted}"' in label_text for key, wanted in labels.items()):
            total += float(value)
    return total


def golden_corpus() -> list[dict[str, str]]:
    return [json.loads(line) for line in (GOLDEN / "corpus.jsonl").read_text().splitlines() if line.strip()]


def golden_questions() -> list[dict[str, object]]:
    questions: list[dict[str, object]] = json.loads((GOLDEN / "questions.json").read_text())
    return questions


def submit(stub: gateway_pb2_grpc.GatewayServiceStub, key: str, document_id: str, title: str, text: str) -> int:
    reply = stub.SubmitDocument(
        gateway_pb2.SubmitDocumentRequest(document_id=document_id, title=title, text=text),
        metadata=[("x-api-key", key)],
        timeout=15,
    )
    return int(reply.version)


def ask(
    stub: gateway_pb2_grpc.GatewayServiceStub, key: str, question: str, **options: object
) -> gateway_pb2.AskResponse:
    request = gateway_pb2.AskRequest(question=question, **options)  # type: ignore[arg-type]
    reply: gateway_pb2.AskResponse = stub.Ask(request, metadata=[("x-api-key", key)], timeout=30)
    return reply


def ask_until_cited(
    stub: gateway_pb2_grpc.GatewayServiceStub,
    key: str,
    question: str,
    document_id: str,
    timeout: float = 90,
    **options: object,
) -> gateway_pb2.AskResponse:
    """Indexing is asynchronous (Kafka): asks (bypassing the caches) until the document is cited,
    and fails when it is not within ``timeout``."""

    def cited() -> gateway_pb2.AskResponse | None:
        reply = ask(stub, key, question, bypass_cache=True, **options)
        return reply if any(c.document_id == document_id for c in reply.citations) else None

    return eventually(cited, f"{document_id} cited for {question!r}", timeout=timeout, interval=0.5)


def trailers(error: grpc.RpcError) -> dict[str, str | bytes]:
    """The error's trailing metadata as a dict (sync calls give _Metadatum named tuples)."""
    return dict(cast("Iterable[tuple[str, str | bytes]]", error.trailing_metadata() or ()))


def rpc_error(call: object) -> grpc.RpcError:
    """Runs ``call`` (a no-argument callable) and returns the gRPC error it must raise."""
    try:
        call()  # type: ignore[operator]
    except grpc.RpcError as error:
        return error
    raise AssertionError("the call succeeded; an error was expected")
