"""Rate limit, token quotas and answer caches, on a second gateway beside the session's stack with
its own API keys (one tenant per concern) and tight limits."""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pydoc_data.topics import topics

import grpc
import pytest

from ragmesh.common.v1 import types_pb2
from ragmesh.gateway.v1 import gateway_pb2_grpc
from tests.stack.conftest import RunningStack
from tests.stack.test_query_helpers import (
    ExtraService,
    ask,
    ask_until_cited,
    extra_service,
    gateway_env,
    metric_value,
    rpc_error,
    submit,
    trailers,
)

TENANTS = ("rate-t", "tpm-t", "tpd-t", "cache-t")
LIMITS = json.dumps({"rate-t": {"rpm": 20, "burst": 2}, "tpm-t": {"tpm": 600}, "tpd-t": {"tpd": 150}})
QUESTION = "What happens when a pass statement is executed?"


@dataclass(frozen=True)
class TightGateway:
    service: ExtraService
    stub: gateway_pb2_grpc.GatewayServiceStub
    keys: dict[str, str]


@pytest.fixture(scope="module")
def tight(running_stack: RunningStack) -> Iterator[TightGateway]:
    keys = {tenant: f"rmk_{secrets.token_hex(16)}" for tenant in TENANTS}
    entries = json.dumps({hashlib.sha256(key.encode()).hexdigest(): tenant for tenant, key in keys.items()})
    env = gateway_env(
        running_stack, GATEWAY_API_KEYS=entries, GATEWAY_TENANT_LIMITS=LIMITS, GATEWAY_CACHE_SETTLE_SECONDS="3"
    )
    with extra_service(running_stack, "gateway", "gateway-tight", env) as service:
        with grpc.insecure_channel(service.address) as channel:
            yield TightGateway(service, gateway_pb2_grpc.GatewayServiceStub(channel), keys)


def _retry_after(error: grpc.RpcError) -> int:
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, error
    seconds = int(trailers(error)["retry-after-seconds"])
    assert f"retry after {seconds} seconds" in (error.details() or "")
    return seconds


def test_request_rate_limit_refuses_then_recovers(tight: TightGateway) -> None:
    key = tight.keys["rate-t"]
    started = time.monotonic()
    ask(tight.stub, key, QUESTION)
    ask(tight.stub, key, QUESTION)
    error = rpc_error(lambda: ask(tight.stub, key, QUESTION))
    elapsed = time.monotonic() - started
    wait = _retry_after(error)
    # 20 per minute refill one request every 3 s; the burst of 2 is spent, and the bucket has
    # refilled for at most `elapsed` seconds since: the next request is due 3 s - that, rounded up.
    assert "20 requests per minute" in (error.details() or "")
    assert max(1, math.ceil(3 - elapsed)) <= wait <= 3, (wait, elapsed)
    ask(tight.stub, tight.keys["cache-t"], QUESTION)  # other tenants are not affected
    time.sleep(wait)
    assert ask(tight.stub, key, QUESTION).answer


def test_tokens_per_minute_refuses_then_recovers(tight: TightGateway) -> None:
    key = tight.keys["tpm-t"]
    left, spent = [], 0
    started = time.monotonic()
    for _ in range(15):
        try:
            reply = ask(tight.stub, key, QUESTION, bypass_cache=True)
        except grpc.RpcError as error:
            wait, details = _retry_after(error), error.details() or ""
            break
        assert reply.usage.total_tokens > 0
        spent += reply.usage.total_tokens
        left.append(reply.quota.tokens_this_minute)
    else:
        pytest.fail(f"600 tokens per minute never ran out: {left}")
    elapsed = time.monotonic() - started
    assert "600 tokens per minute" in details
    assert left == sorted(left, reverse=True) and left[-1] < 600
    # The bucket holds 600 - spent tokens plus 10 per second refilled since the first question; the
    # next question is due when it holds one token again.
    overdraft = spent - 600
    assert max(1, math.ceil((1 + overdraft - 10 * elapsed) / 10)) <= wait <= max(1, math.ceil((1 + overdraft) / 10)), (
        wait,
        spent,
        elapsed,
    )
    time.sleep(wait)
    assert ask(tight.stub, key, QUESTION, bypass_cache=True).answer
    metrics = tight.service.metrics()
    assert metric_value(metrics, "ragmesh_gateway_quota_refusals_total", limit="tokens_per_minute") >= 1


def test_tokens_per_day_refuses_until_tomorrow(tight: TightGateway) -> None:
    key = tight.keys["tpd-t"]
    today = []
    before = time.time()
    for _ in range(5):
        try:
            today.append(ask(tight.stub, key, QUESTION, bypass_cache=True).quota.tokens_today)
        except grpc.RpcError as error:
            wait, details = _retry_after(error), error.details() or ""
            break
    else:
        pytest.fail(f"150 tokens per day never ran out: {today}")
    assert "150 tokens per day" in details
    after = time.time()
    assert today and today[-1] < 150
    # Until midnight UTC, when the day's quota starts again.
    midnight = (int(before // 86_400) + 1) * 86_400
    assert math.ceil(midnight - after) <= wait <= math.ceil(midnight - before) + 1, (wait, midnight - after)


def test_exact_and_semantic_caches_hit_and_invalidate(tight: TightGateway) -> None:
    key = tight.keys["cache-t"]
    submit(tight.stub, key, "cache-pass", "The pass statement", topics["pass"])
    assert "nothing happens" in ask_until_cited(tight.stub, key, QUESTION, "cache-pass").answer
    time.sleep(3.5)  # the change settles (indexed, or the gateway's settle time passed)

    first = ask(tight.stub, key, QUESTION)
    assert first.cache == types_pb2.CACHE_STATUS_MISS and first.usage.total_tokens > 0
    again = ask(tight.stub, key, "  what happens when a PASS statement is executed ")
    assert again.cache == types_pb2.CACHE_STATUS_EXACT_HIT
    assert again.answer == first.answer and list(again.citations) == list(first.citations)
    assert again.usage.total_tokens == 0  # nothing generated: nothing charged
    near = ask(tight.stub, key, "What happens when the pass statement is executed?")
    assert near.cache == types_pb2.CACHE_STATUS_SEMANTIC_HIT and near.answer == first.answer
    assert ask(tight.stub, key, QUESTION, bypass_cache=True).cache == types_pb2.CACHE_STATUS_BYPASSED
    assert ask(tight.stub, key, QUESTION, top_k=3).cache == types_pb2.CACHE_STATUS_MISS  # other options
    # Another tenant never gets this tenant's cached answer.
    other = ask(tight.stub, tight.keys["rate-t"], QUESTION)
    assert other.cache != types_pb2.CACHE_STATUS_EXACT_HIT and "cache-pass" not in {
        c.document_id for c in other.citations
    }

    submit(tight.stub, key, "cache-break", "The break statement", topics["break"])  # the tenant's index changes
    assert ask(tight.stub, key, QUESTION).cache == types_pb2.CACHE_STATUS_MISS
    assert ask(tight.stub, key, "What happens when the pass statement is executed?").cache == (
        types_pb2.CACHE_STATUS_MISS
    )
    metrics = tight.service.metrics()
    assert metric_value(metrics, "ragmesh_gateway_answer_cache_total", cache="exact_hit") >= 1
    assert metric_value(metrics, "ragmesh_gateway_answer_cache_total", cache="semantic_hit") >= 1
