"""Base of the one settings class each service has; only settings classes read the environment."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Self

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def json_or_earlier(value: Any, setting: str, expected: str, earlier: Callable[[str], Any]) -> Any:
    """A structured setting's raw value: a JSON object is parsed (pydantic then types it); any other
    string is read by ``earlier``, the setting's format before JSON. Bad JSON names the form expected."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text.startswith("{"):
        return earlier(text)
    try:
        return json.loads(text)
    except ValueError as error:
        raise ValueError(f"{setting} is not valid JSON ({error}); expected {expected}") from None


class ServiceSettings(BaseSettings):
    """Settings every service shares. Subclasses set ``env_prefix`` and add their own fields."""

    model_config = SettingsConfigDict(env_prefix="RAGMESH_", extra="ignore")

    service_name: str = Field("ragmesh", description="Service name in traces, logs and metrics.")
    host: str = Field("127.0.0.1", description="Address to listen on (0.0.0.0 in containers).")
    port: int = Field(0, description="gRPC port (the service, grpc.health.v1 and reflection).")
    metrics_port: int = Field(0, description="Port of the Prometheus /metrics endpoint; 0 turns it off.")
    log_level: str = Field("INFO", description="Log level of the JSON log lines on stdout.")
    otlp_endpoint: str = Field(
        default="http://127.0.0.1:4317",
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT"),
        description="OTLP/gRPC endpoint of the trace store (Jaeger), shared by all services; empty disables export.",
    )
    drain_seconds: float = Field(10.0, description="Seconds a SIGTERM waits for in-flight RPCs before cancelling them.")
    # Declared limits: overload never queues without bound.
    max_concurrent_rpcs: int = Field(
        256, description="Calls in flight beyond this are refused at once with RESOURCE_EXHAUSTED (no queue)."
    )
    max_request_bytes: int = Field(
        8 * 1024 * 1024, description="Largest request message accepted; larger ones get RESOURCE_EXHAUSTED."
    )
    health_interval_seconds: float = Field(
        2.0, description="Seconds between the dependency checks that drive the health status."
    )
    # One slow check under load is not an outage.
    health_failures_to_not_ready: int = Field(
        2,
        description="Consecutive failed dependency checks before a ready service reports NOT_SERVING "
        "(its callers' channels then send it no calls).",
    )
    client_health_checks: bool = Field(
        True,
        description="Outbound channels watch each address's health and send calls only to SERVING ones "
        "(gRPC client-side health checking); off, calls go to every address whatever its status.",
    )
    redact_logs: bool = Field(
        True,
        description="Emails, phone numbers and card numbers in log lines are replaced by [email], [phone], [card].",
    )

    # TLS is off by default (see docs/security.md); Triton stays plaintext.
    tls_cert_file: str = Field(
        "", description="Server certificate chain (PEM); with tls_key_file it makes the port TLS only."
    )
    tls_key_file: str = Field("", description="Private key (PEM) of tls_cert_file.")
    tls_client_ca_file: str = Field("", description="CA of the client certificates to require (turns on mutual TLS).")
    tls_ca_file: str = Field(
        "",
        description="CA that signed the dependencies' certificates; turns on TLS for the channels to the "
        "dependencies named in tls_outbound.",
    )
    tls_client_cert_file: str = Field(
        "", description="Client certificate (PEM) presented to dependencies that require one."
    )
    tls_client_key_file: str = Field("", description="Private key (PEM) of tls_client_cert_file.")
    tls_outbound: str = Field(
        "*",
        description='Dependencies reached over TLS when tls_ca_file is set: "*" (all) or a comma list, '
        'e.g. "retriever,generator".',
    )
    tls_target_name: str = Field(
        "", description="Name the dependencies' certificates are checked against, when not the host in the address."
    )

    @model_validator(mode="after")
    def _tls_pairs(self) -> Self:
        if bool(self.tls_cert_file) != bool(self.tls_key_file):
            raise ValueError("tls_cert_file and tls_key_file go together: set both or neither")
        if self.tls_client_ca_file and not self.tls_cert_file:
            raise ValueError("tls_client_ca_file (mutual TLS) needs tls_cert_file and tls_key_file")
        if bool(self.tls_client_cert_file) != bool(self.tls_client_key_file):
            raise ValueError("tls_client_cert_file and tls_client_key_file go together: set both or neither")
        if self.tls_client_cert_file and not self.tls_ca_file:
            raise ValueError("tls_client_cert_file needs tls_ca_file (outbound TLS)")
        return self

    @property
    def listen_address(self) -> str:
        return f"{self.host}:{self.port}"
