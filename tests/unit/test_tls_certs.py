"""A throwaway CA and certificates for the TLS tests (helpers, imported by the TLS tests), plus the
unit tests of ragmesh_kit.tls: settings validation, credentials, and a real TLS / mTLS handshake on a
local grpc server (no stack needed)."""

from __future__ import annotations

import datetime
import ipaddress
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from pydantic import ValidationError

from ragmesh_kit.settings import ServiceSettings
from ragmesh_kit.tls import client_tls, describe, server_credentials, uses_tls


@dataclass(frozen=True)
class Pki:
    """PEM files of a CA, a server certificate (127.0.0.1 and localhost) and a client certificate."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path

    def channel_credentials(self, with_client_cert: bool = True) -> grpc.ChannelCredentials:
        if not with_client_cert:
            return grpc.ssl_channel_credentials(root_certificates=self.ca.read_bytes())
        return grpc.ssl_channel_credentials(
            root_certificates=self.ca.read_bytes(),
            private_key=self.client_key.read_bytes(),
            certificate_chain=self.client_cert.read_bytes(),
        )


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


def make_pki(folder: Path, ca_name: str = "ragmesh test CA") -> Pki:
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(ca_name))
        .issuer_name(_name(ca_name))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    paths = Pki(*(folder / name for name in ("ca.pem", "server.pem", "server.key", "client.pem", "client.key")))
    paths.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))

    def leaf(common_name: str, usage: x509.ObjectIdentifier, cert_path: Path, key_path: Path) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        sans = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(key, key_path)

    leaf("ragmesh-service", ExtendedKeyUsageOID.SERVER_AUTH, paths.server_cert, paths.server_key)
    leaf("ragmesh-client", ExtendedKeyUsageOID.CLIENT_AUTH, paths.client_cert, paths.client_key)
    return paths


def server_env(prefix: str, pki: Pki, mutual: bool) -> dict[str, str]:
    env = {f"{prefix}_TLS_CERT_FILE": str(pki.server_cert), f"{prefix}_TLS_KEY_FILE": str(pki.server_key)}
    if mutual:
        env[f"{prefix}_TLS_CLIENT_CA_FILE"] = str(pki.ca)
    return env


def client_env(prefix: str, pki: Pki, outbound: str, with_client_cert: bool = True) -> dict[str, str]:
    env = {f"{prefix}_TLS_CA_FILE": str(pki.ca), f"{prefix}_TLS_OUTBOUND": outbound}
    if with_client_cert:
        env[f"{prefix}_TLS_CLIENT_CERT_FILE"] = str(pki.client_cert)
        env[f"{prefix}_TLS_CLIENT_KEY_FILE"] = str(pki.client_key)
    return env


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def test_tls_is_off_by_default() -> None:
    settings = ServiceSettings()
    assert server_credentials(settings) is None and client_tls(settings, "retriever") is None
    assert describe(settings) == "plaintext"


@pytest.mark.parametrize(
    "fields",
    [
        {"tls_cert_file": "a.pem"},
        {"tls_key_file": "a.key"},
        {"tls_client_ca_file": "ca.pem"},
        {"tls_client_cert_file": "c.pem", "tls_client_key_file": "c.key"},
        {"tls_ca_file": "ca.pem", "tls_client_cert_file": "c.pem"},
    ],
)
def test_incomplete_tls_settings_stop_the_service_at_start(fields: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        ServiceSettings(**fields)  # type: ignore[arg-type]


def test_outbound_tls_follows_the_named_dependencies(pki: Pki) -> None:
    some = ServiceSettings(tls_ca_file=str(pki.ca), tls_outbound="retriever, generator")
    assert uses_tls(some, "retriever") and uses_tls(some, "generator") and not uses_tls(some, "embedder")
    everyone = ServiceSettings(tls_ca_file=str(pki.ca))
    assert all(uses_tls(everyone, name) for name in ("embedder", "retriever", "generator"))
    found = client_tls(ServiceSettings(tls_ca_file=str(pki.ca), tls_target_name="retriever.internal"), "retriever")
    assert found is not None and found.target_name == "retriever.internal"


def _serve(settings: ServiceSettings) -> tuple[grpc.Server, int]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    health_pb2_grpc.add_HealthServicer_to_server(health.HealthServicer(), server)
    credentials = server_credentials(settings)
    assert credentials is not None
    port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    return server, port


def _check(port: int, credentials: grpc.ChannelCredentials | None) -> grpc.StatusCode:
    target = f"127.0.0.1:{port}"
    with grpc.secure_channel(target, credentials) if credentials else grpc.insecure_channel(target) as channel:
        try:
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=3)
        except grpc.RpcError as error:
            return error.code()
    return grpc.StatusCode.OK


def test_tls_and_mutual_tls_handshakes(pki: Pki, tmp_path: Path) -> None:
    one_way = ServiceSettings(tls_cert_file=str(pki.server_cert), tls_key_file=str(pki.server_key))
    mutual = one_way.model_copy(update={"tls_client_ca_file": str(pki.ca)})
    assert (describe(one_way), describe(mutual)) == ("tls", "mtls")
    stranger = make_pki(tmp_path / "other", "another CA")
    for settings, expected in (
        (one_way, {"plain": False, "tls": True, "client_cert": True, "stranger": False}),
        (mutual, {"plain": False, "tls": False, "client_cert": True, "stranger": False}),
    ):
        server, port = _serve(settings)
        try:
            outcomes = {
                "plain": _check(port, None),
                "tls": _check(port, pki.channel_credentials(with_client_cert=False)),
                "client_cert": _check(port, pki.channel_credentials()),
                # A client certificate from another CA (and a server it cannot verify).
                "stranger": _check(port, stranger.channel_credentials()),
            }
        finally:
            server.stop(None)
        assert {name: code == grpc.StatusCode.OK for name, code in outcomes.items()} == expected, outcomes
        assert all(code in (grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE) for code in outcomes.values())
