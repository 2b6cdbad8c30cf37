"""Optional TLS and mutual TLS on the real services: an extra retriever that requires client
certificates (mTLS) and an extra gateway served over TLS that reaches that retriever over mTLS,
beside the session's plaintext stack. Certificates come from a throwaway CA made in the test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ragmesh.common.v1 import types_pb2
from ragmesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ragmesh.retriever.v1 import retriever_pb2, retriever_pb2_grpc
from ragmesh_devstack import components
from ragmesh_devstack.processes import ProcessTable
from tests.eventually import eventually
from tests.net import free_port
from tests.stack.conftest import RunningStack
from tests.stack.test_query_helpers import gateway_env
from tests.unit.test_tls_certs import Pki, client_env, make_pki, server_env


@dataclass(frozen=True)
class TlsService:
    label: str
    address: str
    log: Path


def _serving(address: str, credentials: grpc.ChannelCredentials) -> bool:
    with grpc.secure_channel(address, credentials) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1.0)
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


@contextmanager
def tls_service(stack: RunningStack, name: str, label: str, env: dict[str, str], pki: Pki) -> Iterator[TlsService]:
    """Like extra_service in test_query_helpers, but ready means SERVING over TLS (client cert sent)."""
    port = free_port()
    settings = stack.settings.model_copy(update={f"{name}_metrics_port": free_port()})
    component = components.python_service(settings, name, port, env)
    table = ProcessTable(settings.run_dir)
    table.stop(label)
    table.start(replace(component.spec, name=label))
    address = f"127.0.0.1:{port}"

    def serving() -> bool:
        if table.exited(label):
            pytest.fail(f"{label} exited:\n{table.tail(label)}")
        assert _serving(address, pki.channel_credentials()), table.tail(label)
        return True

    try:
        eventually(serving, f"{label} serving over TLS", timeout=60)
        yield TlsService(label, address, table.log_path(label))
    finally:
        table.stop(label)


@dataclass(frozen=True)
class TlsMesh:
    pki: Pki
    retriever: TlsService
    gateway: TlsService
    key: str


@pytest.fixture(scope="module")
def mesh(running_stack: RunningStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsMesh]:
    pki = make_pki(tmp_path_factory.mktemp("pki"))
    data_dir = tmp_path_factory.mktemp("qdrant-tls")
    retriever_env = {"RETRIEVER_DATA_DIR": str(data_dir), **server_env("RETRIEVER", pki, mutual=True)}
    with tls_service(running_stack, "retriever", "retriever-mtls", retriever_env, pki) as retriever:
        env = gateway_env(
            running_stack,
            GATEWAY_RETRIEVER_ADDR=retriever.address,
            **server_env("GATEWAY", pki, mutual=False),
            **client_env("GATEWAY", pki, outbound="retriever"),
        )
        with tls_service(running_stack, "gateway", "gateway-tls", env, pki) as gateway:
            yield TlsMesh(pki, retriever, gateway, running_stack.api_key)


def _code(call: object) -> grpc.StatusCode:
    try:
        call()  # type: ignore[operator]
    except grpc.RpcError as error:
        return error.code()
    return grpc.StatusCode.OK


def _count(address: str, credentials: grpc.ChannelCredentials | None) -> grpc.StatusCode:
    request = retriever_pb2.CountChunksRequest(tenant_id="tls-t")
    if credentials is None:
        with grpc.insecure_channel(address) as channel:
            return _code(lambda: retriever_pb2_grpc.RetrieverServiceStub(channel).CountChunks(request, timeout=5))
    with grpc.secure_channel(address, credentials) as channel:
        return _code(lambda: retriever_pb2_grpc.RetrieverServiceStub(channel).CountChunks(request, timeout=5))


def test_mtls_retriever_needs_a_client_certificate_from_the_ca(mesh: TlsMesh, tmp_path: Path) -> None:
    assert _count(mesh.retriever.address, mesh.pki.channel_credentials()) == grpc.StatusCode.OK
    assert _count(mesh.retriever.address, None) == grpc.StatusCode.UNAVAILABLE
    no_cert = mesh.pki.channel_credentials(with_client_cert=False)
    assert _count(mesh.retriever.address, no_cert) == grpc.StatusCode.UNAVAILABLE
    stranger = make_pki(tmp_path / "stranger", "another CA")
    other_client = grpc.ssl_channel_credentials(
        root_certificates=mesh.pki.ca.read_bytes(),
        private_key=stranger.client_key.read_bytes(),
        certificate_chain=stranger.client_cert.read_bytes(),
    )
    assert _count(mesh.retriever.address, other_client) == grpc.StatusCode.UNAVAILABLE


def test_tls_gateway_refuses_plaintext_and_untrusted_server_checks(mesh: TlsMesh, tmp_path: Path) -> None:
    request = gateway_pb2.GetDocumentStatusRequest(document_id="never-sent")
    auth = [("x-api-key", mesh.key)]
    with grpc.insecure_channel(mesh.gateway.address) as channel:
        stub = gateway_pb2_grpc.GatewayServiceStub(channel)
        assert _code(lambda: stub.GetDocumentStatus(request, metadata=auth, timeout=5)) == grpc.StatusCode.UNAVAILABLE
    # A client that trusts another CA does not accept the gateway's certificate.
    stranger = make_pki(tmp_path / "stranger", "another CA")
    with grpc.secure_channel(mesh.gateway.address, stranger.channel_credentials(False)) as channel:
        stub = gateway_pb2_grpc.GatewayServiceStub(channel)
        assert _code(lambda: stub.GetDocumentStatus(request, metadata=auth, timeout=5)) == grpc.StatusCode.UNAVAILABLE
    # One-way TLS: no client certificate needed at the gateway; the key still is.
    with grpc.secure_channel(mesh.gateway.address, mesh.pki.channel_credentials(False)) as channel:
        stub = gateway_pb2_grpc.GatewayServiceStub(channel)
        assert _code(lambda: stub.GetDocumentStatus(request, metadata=auth, timeout=5)) == grpc.StatusCode.NOT_FOUND
        assert _code(lambda: stub.GetDocumentStatus(request, timeout=5)) == grpc.StatusCode.UNAUTHENTICATED


def test_tls_gateway_to_mtls_retriever_hop_works(mesh: TlsMesh) -> None:
    auth = [("x-api-key", mesh.key)]
    with grpc.secure_channel(mesh.gateway.address, mesh.pki.channel_credentials(False)) as channel:
        stub = gateway_pb2_grpc.GatewayServiceStub(channel)
        submitted = stub.SubmitDocument(
            gateway_pb2.SubmitDocumentRequest(document_id="tls-doc", title="TLS", text="Sent over TLS."),
            metadata=auth,
            timeout=15,
        )
        # The gateway recorded the ACCEPTED state in the mTLS retriever (the only one it talks to).
        status = stub.GetDocumentStatus(
            gateway_pb2.GetDocumentStatusRequest(document_id="tls-doc"), metadata=auth, timeout=10
        ).status
        assert (status.state, status.version) == (types_pb2.DOCUMENT_STATE_ACCEPTED, submitted.version)
        reply = stub.Ask(gateway_pb2.AskRequest(question="What is sent over TLS?"), metadata=auth, timeout=30)
        assert len(reply.trace_id) == 32
    log = mesh.gateway.log.read_text()
    assert '"transport": "tls"' in log and "mtls" in mesh.retriever.log.read_text()
