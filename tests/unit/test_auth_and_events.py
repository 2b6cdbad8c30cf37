from __future__ import annotations

import pytest

from ragmesh.common.v1 import types_pb2
from ragmesh.documents.v1 import events_pb2
from ragmesh_kit.document_events import decode_event, encode_event, message_key
from ragmesh_kit.domain import DELETE, UPSERT, DocumentCommand
from ragmesh_kit.errors import InvalidArgument, Unauthenticated
from services.gateway.app.auth import ApiKeyAuthenticator, hash_api_key, parse_key_entries


def test_known_key_maps_to_its_tenant_and_others_are_refused() -> None:
    entries = parse_key_entries([f"{hash_api_key('k-one')} tenant-1", f"{hash_api_key('k-two')}:tenant-2", "# c"])
    auth = ApiKeyAuthenticator(entries)
    assert auth.authenticate("k-one") == "tenant-1"
    assert auth.authenticate("k-two") == "tenant-2"
    with pytest.raises(Unauthenticated, match="unknown"):
        auth.authenticate("k-three")
    with pytest.raises(Unauthenticated, match="x-api-key"):
        auth.authenticate(None)


def test_key_entries_must_be_hashes() -> None:
    with pytest.raises(ValueError, match="sha256"):
        parse_key_entries(["plaintext-key tenant"])


def test_document_event_round_trip() -> None:
    command = DocumentCommand(UPSERT, "t", "doc/1", 7, "Title", "Body", {"year": 2024, "lang": "en", "ok": True})
    assert decode_event(encode_event(command)) == command
    delete = DocumentCommand(DELETE, "t", "doc/1", 8)
    assert decode_event(encode_event(delete)) == delete
    assert message_key("t", "doc/1") == b"t/doc/1"


@pytest.mark.parametrize("payload", [b"\xff\xff\xff", b"", encode_event(DocumentCommand(UPSERT, "", "d", 1))])
def test_malformed_payloads_are_invalid_arguments(payload: bytes) -> None:
    with pytest.raises(InvalidArgument):
        decode_event(payload)


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_non_finite_metadata_is_refused_before_it_reaches_the_store(value: float) -> None:
    # Qdrant cannot store it: accepted, it failed every retry of its upsert and held back the
    # documents behind it on the partition.
    payload = events_pb2.DocumentEvent(
        operation=events_pb2.DocumentEvent.OPERATION_UPSERT,
        tenant_id="t",
        document_id="d",
        version=1,
        text="Some text.",
        metadata={"weight": types_pb2.MetadataValue(double_value=value)},
    ).SerializeToString()
    with pytest.raises(InvalidArgument, match=r"metadata field 'weight' is .*; send a finite number"):
        decode_event(payload)
    finite = events_pb2.DocumentEvent.FromString(payload)
    finite.metadata["weight"].double_value = 0.5
    assert decode_event(finite.SerializeToString()).metadata == {"weight": 0.5}
