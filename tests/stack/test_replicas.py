"""Past one replica, on the real stack: two gateways sharing their tenant state through the
stack's Valkey, each calling two embedders and two generators behind one address list (the
session's own embedder and generator, plus one more of each). Questions spread over both replicas
(read from each replica's own metrics), one tenant's quota holds across both gateways, an answer
cached by one gateway is a hit on the other, a killed embedder replica loses no request, and
Valkey killed mid-load gives the documented fail-open behaviour and comes back by itself."""

from __future__ import annotations

import hashlib
import json
import math
import os
import secrets
import signal
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pydoc_data.topics import topics

import grpc
import pytest

from ragmesh.common.v1 import types_pb2
from ragmesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ragmesh_devstack import components
from ragmesh_devstack.processes import ProcessTable
from tests.eventually import eventually
from tests.stack.conftest import RunningStack
from tests.stack.test_query_helpers import ExtraService, extra_service, gateway_env, metric_value, submit

QUOTA_RPM = 6  # burst 6, then one request every 10 s
TENANTS = ("spread-t", "quota-t", "cache-t", "fault-t")
LIMITS = json.dumps({"quota-t": {"rpm": QUOTA_RPM}})
EMBED = "/ragmesh.embedder.v1.EmbedderService/Embed"
GENERATE = "/ragmesh.generator.v1.GeneratorService/Generate"
QUESTION = "What does the del statement do to a name?"


@dataclass(frozen=True)
class Replicas:
    stack: RunningStack
    gateways: tuple[ExtraService, ExtraService]
    stubs: tuple[gateway_pb2_grpc.GatewayServiceStub, gateway_pb2_grpc.GatewayServiceStub]
    embedder_metrics: tuple[int, int]  # each embedder replica's own metrics port
    generator_metrics: tuple[int, int]
    extra_embedder: str  # process label of the second embedder
    keys: dict[str, str]


def _stack_env(stack: RunningStack, name: str) -> dict[str, str]:
    """The environment `make up` gives service ``name``, less its ports (extra_service sets them)."""
    [component] = [c for c in components.services(stack.settings) if c.name == name]
    prefix = f"{name.upper()}_"
    return {k: v for k, v in component.spec.env.items() if k.startswith(prefix) and not k.endswith("PORT")}


def _metrics(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        return str(reply.read().decode())


def _calls(port: int, method: str) -> float:
    return metric_value(_metrics(port), "ragmesh_rpc_server_duration_seconds_count", method=method, code="OK")


@pytest.fixture(scope="module")
def replicas(running_stack: RunningStack) -> Iterator[Replicas]:
    s = running_stack.settings
    keys = {tenant: f"rmk_{secrets.token_hex(16)}" for tenant in TENANTS}
    entries = json.dumps({hashlib.sha256(key.encode()).hexdigest(): tenant for tenant, key in keys.items()})
    with ExitStack() as started:
        embedder = started.enter_context(
            extra_service(running_stack, "embedder", "embedder-2", _stack_env(running_stack, "embedder"))
        )
        generator = started.enter_context(
            extra_service(running_stack, "generator", "generator-2", _stack_env(running_stack, "generator"))
        )
        env = gateway_env(
            running_stack,
            GATEWAY_EMBEDDER_ADDR=f"{running_stack.address('embedder')},{embedder.address}",
            GATEWAY_API_KEYS=entries,
            GATEWAY_TENANT_LIMITS=LIMITS,
            GATEWAY_VALKEY_URL=f"valkey://127.0.0.1:{s.valkey_port}/0",
            GATEWAY_CACHE_SETTLE_SECONDS="30",
        )
        env["GATEWAY_GENERATOR_ADDR"] = f"{running_stack.address('generator')},{generator.address}"
        gateways = (
            started.enter_context(extra_service(running_stack, "gateway", "gateway-r1", env)),
            started.enter_context(extra_service(running_stack, "gateway", "gateway-r2", env)),
        )
        channels = [started.enter_context(grpc.insecure_channel(g.address)) for g in gateways]
        yield Replicas(
            running_stack,
            gateways,
            (gateway_pb2_grpc.GatewayServiceStub(channels[0]), gateway_pb2_grpc.GatewayServiceStub(channels[1])),
            (s.embedder_metrics_port, embedder.metrics_port),
            (s.generator_metrics_port, generator.metrics_port),
            embedder.label,
            keys,
        )


def _ask(stub: gateway_pb2_grpc.GatewayServiceStub, key: str, timeout: float = 20, **options: object) -> str:
    """Asks once; returns the status code's name (and raises nothing)."""
    try:
        stub.Ask(
            gateway_pb2.AskRequest(question=QUESTION, **options),  # type: ignore[arg-type]
            metadata=[("x-api-key", key)],
            timeout=timeout,
        )
    except grpc.RpcError as error:
        return str(error.code().name)
    return "OK"


def test_questions_spread_over_both_replicas_of_each_service(replicas: Replicas) -> None:
    embeds = [_calls(port, EMBED) for port in replicas.embedder_metrics]
    generations = [_calls(port, GENERATE) for port in replicas.generator_metrics]
    key = replicas.keys["spread-t"]
    results = Counter(_ask(replicas.stubs[n % 2], key, bypass_cache=True) for n in range(16))
    assert results == Counter({"OK": 16}), results
    embeds = [_calls(port, EMBED) - before for port, before in zip(replicas.embedder_metrics, embeds, strict=True)]
    generations = [
        _calls(port, GENERATE) - before for port, before in zip(replicas.generator_metrics, generations, strict=True)
    ]
    # Round-robin per gateway channel: each replica gets about half; pick-first would give one all.
    assert sum(embeds) >= 16 and min(embeds) >= 4, embeds
    assert sum(generations) >= 16 and min(generations) >= 4, generations


def test_one_tenant_quota_holds_across_both_gateways(replicas: Replicas) -> None:
    key = replicas.keys["quota-t"]
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def worker(gateway: int) -> None:
        for _ in range(6):
            code = _ask(replicas.stubs[gateway], key, bypass_cache=True)
            with lock:
                results.append((gateway, code))

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n % 2,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    admitted = [gateway for gateway, code in results if code == "OK"]
    refused = [code for _, code in results if code != "OK"]
    assert set(refused) <= {"RESOURCE_EXHAUSTED"}, results
    # The burst (= rpm) once for both gateways, plus what refilled meanwhile: in memory each
    # gateway would have admitted its own 6 (12 of the 24).
    refilled = math.floor(elapsed * QUOTA_RPM / 60)
    assert QUOTA_RPM <= len(admitted) <= QUOTA_RPM + refilled, (len(admitted), elapsed)
    assert set(admitted) == {0, 1}, "both gateways admitted some"
    refusals = sum(
        metric_value(g.metrics(), "ragmesh_gateway_quota_refusals_total", limit="requests") for g in replicas.gateways
    )
    assert refusals == len(refused)


def test_an_answer_cached_by_one_gateway_is_a_hit_on_the_other(replicas: Replicas) -> None:
    key = replicas.keys["cache-t"]
    one, two = replicas.stubs
    submit(one, key, "replica-del", "del", topics["del"])

    def indexed() -> bool:
        reply = two.GetDocumentStatus(
            gateway_pb2.GetDocumentStatusRequest(document_id="replica-del"), metadata=[("x-api-key", key)], timeout=5
        )
        return bool(reply.status.state == types_pb2.DOCUMENT_STATE_INDEXED)

    eventually(indexed, "replica-del indexed", timeout=60, interval=0.5)

    def ask(stub: gateway_pb2_grpc.GatewayServiceStub) -> gateway_pb2.AskResponse:
        reply: gateway_pb2.AskResponse = stub.Ask(
            gateway_pb2.AskRequest(question=QUESTION), metadata=[("x-api-key", key)], timeout=20
        )
        return reply

    first = ask(one)
    assert first.cache == types_pb2.CACHE_STATUS_MISS and any(c.document_id == "replica-del" for c in first.citations)
    second = ask(two)
    assert second.cache == types_pb2.CACHE_STATUS_EXACT_HIT
    assert second.answer == first.answer and list(second.citations) == list(first.citations)
    assert second.usage.prompt_tokens == 0  # a hit costs the tenant no tokens


class Load:
    """``count`` questions over both gateways from ``threads`` threads; ``codes`` fills as they
    finish and ``quarter`` is set once a quarter of them are done."""

    def __init__(self, replicas: Replicas, key: str, count: int, timeout: float, threads: int = 4) -> None:
        self.codes: list[str] = []
        self.quarter = threading.Event()
        self._lock = threading.Lock()
        self._numbers = iter(range(count))
        self._args = (replicas, key, count, timeout)
        self._threads = [threading.Thread(target=self._work, daemon=True) for _ in range(threads)]
        for thread in self._threads:
            thread.start()

    def _work(self) -> None:
        replicas, key, count, timeout = self._args
        while True:
            with self._lock:
                number = next(self._numbers, None)
            if number is None:
                return
            code = _ask(replicas.stubs[number % 2], key, timeout=timeout, bypass_cache=True)
            with self._lock:
                self.codes.append(code)
                if len(self.codes) >= count // 4:
                    self.quarter.set()

    def join(self) -> Counter[str]:
        for thread in self._threads:
            thread.join(120)
        return Counter(self.codes)


def test_killing_one_embedder_replica_loses_no_request(replicas: Replicas) -> None:
    table = ProcessTable(replicas.stack.settings.run_dir)
    pid = table.pid(replicas.extra_embedder)
    assert pid is not None
    before = _calls(replicas.embedder_metrics[1], EMBED)
    # 8 callers keep a few Embed calls in flight on each replica at any moment.
    load = Load(replicas, replicas.keys["fault-t"], 120, timeout=15, threads=8)
    assert load.quarter.wait(60), "the load did not start"
    assert _calls(replicas.embedder_metrics[1], EMBED) > before, "the replica to kill is serving"
    os.kill(pid, signal.SIGKILL)  # mid-load: calls in flight on it fail UNAVAILABLE and are retried
    assert load.join() == Counter({"OK": 120})


def test_valkey_killed_mid_load_fails_open_and_comes_back_by_itself(replicas: Replicas) -> None:
    settings = replicas.stack.settings
    table = ProcessTable(settings.run_dir)
    load = Load(replicas, replicas.keys["spread-t"], 24, timeout=5)
    assert load.quarter.wait(60), "the load did not start"
    table.stop("valkey", timeout_seconds=0)  # SIGTERM then at once SIGKILL
    # Fail-open: every question answered within its 5 s deadline, on each gateway's own limits.
    assert load.join() == Counter({"OK": 24})
    for gateway in replicas.gateways:
        text = gateway.metrics()
        assert metric_value(text, "ragmesh_gateway_shared_state_up") == 0
        assert metric_value(text, "ragmesh_gateway_shared_state_fallbacks_total") > 0
        assert "shared state unavailable" in gateway.log.read_text()
    table.start(components.valkey(settings).spec)
    eventually(lambda: components.valkey_answers(settings.valkey_port), "valkey back", timeout=30)

    def shared_again() -> bool:
        for stub in replicas.stubs:  # a question tries the store again after the retry interval
            assert _ask(stub, replicas.keys["spread-t"], bypass_cache=True) == "OK"
        return all(metric_value(g.metrics(), "ragmesh_gateway_shared_state_up") == 1 for g in replicas.gateways)

    eventually(shared_again, "both gateways on the shared state again", timeout=30, interval=0.5)
    assert all("shared state back" in g.log.read_text() for g in replicas.gateways)
