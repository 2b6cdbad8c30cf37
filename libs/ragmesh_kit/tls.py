"""Optional TLS and mutual TLS for gRPC, from the shared ServiceSettings (off by default).

Inbound (``server_credentials``): a server certificate and key turn the listening port into TLS
only; a client CA on top requires every caller to present a certificate signed by it (mTLS).
Outbound (``client_tls``): a CA to verify the services this one calls, plus an optional client
certificate and key it presents to them; ``tls_outbound`` names which dependencies use it.
Triton and Kafka connections are not covered here (see docs/security.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc

from ragmesh_kit.settings import ServiceSettings

ALL_DEPENDENCIES = "*"


def _read(path: str) -> bytes:
    return Path(path).read_bytes()


def server_credentials(settings: ServiceSettings) -> grpc.ServerCredentials | None:
    """TLS credentials for the listening port, or None when no server certificate is configured."""
    if not settings.tls_cert_file:
        return None
    client_ca = _read(settings.tls_client_ca_file) if settings.tls_client_ca_file else None
    return grpc.ssl_server_credentials(
        [(_read(settings.tls_key_file), _read(settings.tls_cert_file))],
        root_certificates=client_ca,
        require_client_auth=client_ca is not None,
    )


@dataclass(frozen=True)
class ClientTls:
    """What an outbound channel needs for TLS: credentials and, optionally, the name the server's
    certificate is checked against when it differs from the host in the address."""

    credentials: grpc.ChannelCredentials
    target_name: str = ""


def uses_tls(settings: ServiceSettings, dependency: str) -> bool:
    if not settings.tls_ca_file:
        return False
    wanted = {name.strip() for name in settings.tls_outbound.split(",") if name.strip()}
    return ALL_DEPENDENCIES in wanted or dependency in wanted


def client_tls(settings: ServiceSettings, dependency: str) -> ClientTls | None:
    """TLS for the channel to ``dependency`` (e.g. "retriever"), or None for plaintext."""
    if not uses_tls(settings, dependency):
        return None
    cert = _read(settings.tls_client_cert_file) if settings.tls_client_cert_file else None
    key = _read(settings.tls_client_key_file) if settings.tls_client_key_file else None
    credentials = grpc.ssl_channel_credentials(
        root_certificates=_read(settings.tls_ca_file), private_key=key, certificate_chain=cert
    )
    return ClientTls(credentials, settings.tls_target_name)


def describe(settings: ServiceSettings) -> str:
    """ "plaintext", "tls" or "mtls": how the listening port is served (for the start-up log)."""
    if not settings.tls_cert_file:
        return "plaintext"
    return "mtls" if settings.tls_client_ca_file else "tls"
