"""Base of the one settings class each service has; only settings classes read the environment."""

from __future__ import annotations

from typing import Self

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Settings every service shares. Subclasses set ``env_prefix`` and add their own fields."""

    model_config = SettingsConfigDict(env_prefix="RAGMESH_", extra="ignore")

    service_name: str = "ragmesh"
    host: str = "127.0.0.1"
    port: int = 0
    # Prometheus /metrics endpoint; 0 turns it off.
    metrics_port: int = 0
    log_level: str = "INFO"
    # OTLP/gRPC endpoint of the trace store (Jaeger), shared by all services; empty disables export.
    otlp_endpoint: str = Field(
        default="http://127.0.0.1:4317",
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT"),
    )
    # Seconds a SIGTERM waits for in-flight RPCs before cancelling them.
    drain_seconds: float = 10.0
    # Declared limits: calls in flight beyond this are refused at once with RESOURCE_EXHAUSTED
    # (overload never queues without bound), and requests larger than max_request_bytes too.
    max_concurrent_rpcs: int = 256
    max_request_bytes: int = 8 * 1024 * 1024
    # Seconds between dependency checks that drive the health status.
    health_interval_seconds: float = 2.0
    # Consecutive failed checks of a dependency before a service that was ready reports NOT_SERVING
    # (its callers' channels then send it no calls): one slow check under load is not an outage.
    health_failures_to_not_ready: int = 2
    # Outbound channels watch each address's health and send calls only to SERVING ones (gRPC
    # client-side health checking); off, calls go to every address whatever its status.
    client_health_checks: bool = True
    # Emails, phone numbers and card numbers in log lines are replaced by [email], [phone], [card].
    redact_logs: bool = True

    # TLS (off by default; paths to PEM files, see docs/security.md). Inbound: a server certificate
    # chain and key make the port TLS only; a client CA on top requires client certificates (mTLS).
    tls_cert_file: str = ""
    tls_key_file: str = ""
    tls_client_ca_file: str = ""
    # Outbound: the CA that signed the dependencies' certificates turns TLS on for the channels to
    # the dependencies named in tls_outbound ("*": all; or e.g. "retriever,generator"); a client
    # certificate and key are presented to servers that require them. Triton stays plaintext.
    tls_ca_file: str = ""
    tls_client_cert_file: str = ""
    tls_client_key_file: str = ""
    tls_outbound: str = "*"
    # The name the dependencies' certificates are checked against, when not the host in the address.
    tls_target_name: str = ""

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
