"""Outbound gRPC channels: with keepalive, TLS when given; every call passes its own deadline
(timeout, see ``deadlines``).

Balanced over replicas: a target may resolve to several addresses (a ``dns:///`` name of a headless
Service in Kubernetes; ``ipv4:a:p1,b:p2`` or a plain comma list locally) and every channel spreads
its calls round-robin over all of them. gRPC's client-side health checking watches each address's
``grpc.health.v1`` service ("" = the whole server, which follows readiness), so a replica that says
NOT_SERVING gets no calls. A call that fails with UNAVAILABLE before the server saw it (a replica
killed, a connection refused) is retried by gRPC itself, on another address, within the same
deadline (service-config retryPolicy; no hand-written loops).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ragmesh_kit.tls import ClientTls

MAX_MESSAGE_BYTES = 64 * 1024 * 1024

# Every method of every service: round-robin over healthy addresses, and up to 3 attempts when an
# attempt ends UNAVAILABLE (connection refused or reset: the request did not run). Attempts share
# the call's deadline, so retrying never makes a call outlive what its caller has left.
SERVICE_CONFIG = {
    "loadBalancingConfig": [{"round_robin": {}}],
    "healthCheckConfig": {"serviceName": ""},
    "methodConfig": [
        {
            "name": [{}],
            "retryPolicy": {
                "maxAttempts": 3,
                "initialBackoff": "0.02s",
                "maxBackoff": "0.2s",
                "backoffMultiplier": 2,
                "retryableStatusCodes": ["UNAVAILABLE"],
            },
        }
    ],
}


def channel_target(address: str) -> str:
    """The gRPC target of a configured address: a single ``host:port`` or a URI (``dns:///name:port``,
    ``ipv4:...``) is used as given; a comma list of ``ip:port`` becomes one ``ipv4:`` target, so the
    channel balances over all of them."""
    if "," not in address or address.startswith(("dns:", "ipv4:", "ipv6:", "unix:")):
        return address
    for part in address.split(","):
        host, colon, port = part.strip().rpartition(":")
        if not colon or not port.isdigit():
            raise ValueError(f"address list {address!r}: {part.strip()!r} has no port")
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise ValueError(
                f"address list {address!r}: {part.strip()!r} is not ipv4:port; list IPv4 addresses, or use "
                "one dns:/// name that resolves to every replica (a headless Service)"
            ) from None
    return "ipv4:" + ",".join(part.strip() for part in address.split(","))


def open_channel(target: str, tls: ClientTls | None = None, *, health_checked: bool = True) -> grpc.aio.Channel:
    """A plaintext channel, or a TLS one with ``tls`` (see ``ragmesh_kit.tls.client_tls``), balanced
    over every address ``target`` names or resolves to. ``health_checked=False`` for servers without
    the health service's Watch method (Triton answers it UNIMPLEMENTED; gRPC then assumes healthy
    and logs an error per connection)."""
    target = channel_target(target)
    config = dict(SERVICE_CONFIG)
    if not health_checked:
        del config["healthCheckConfig"]
    options: list[tuple[str, str | int]] = [
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.enable_retries", 1),
        ("grpc.service_config", json.dumps(config)),
        # A headless Service's pods change: resolve again at most every 5 s when a connection drops.
        ("grpc.dns_min_time_between_resolutions_ms", 5_000),
        # A restarted replica is back within a second or two: reconnect attempts back off to 2 s at
        # most (gRPC's default grows to 120 s, leaving a recovered backend unused meanwhile). Not
        # grpc.min_reconnect_backoff_ms: that is also the connect timeout (20 s), and a peer slow to
        # handshake must fail by the caller's deadline, not as UNAVAILABLE.
        ("grpc.initial_reconnect_backoff_ms", 200),
        ("grpc.max_reconnect_backoff_ms", 2_000),
    ]
    # No client interceptors: each call opens its span itself (``telemetry.client_span``), which
    # costs less than grpc.aio's intercepted-call machinery.
    if tls is None:
        return grpc.aio.insecure_channel(target, options=options)
    if tls.target_name:
        options.append(("grpc.ssl_target_name_override", tls.target_name))
    return grpc.aio.secure_channel(target, tls.credentials, options=options)


def health_check(channel: grpc.aio.Channel, timeout_seconds: float = 2.0) -> Callable[[], Awaitable[bool]]:
    """A readiness check that asks a dependency's standard health service."""
    stub = health_pb2_grpc.HealthStub(channel)

    async def check() -> bool:
        try:
            reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=timeout_seconds)
        except grpc.aio.AioRpcError:
            return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

    return check
