"""Bad documents through the real stack. At the gateway, what it can tell is refused at once with
INVALID_ARGUMENT saying what to fix (both bodies, unknown type, bytes that are not the type, a PDF
one byte over the 2 MiB limit); one exactly at the limit is indexed. On the Kafka path, what only
parsing finds (an encrypted or corrupt PDF, HTML without text) and what a producer got wrong (not
UTF-8, unknown type, over the limit) is dead-lettered with the reason and recorded as FAILED, while
the messages after it on the same partition are indexed and no part restarts."""

from __future__ import annotations

import secrets
import time

import grpc
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from ragmesh.client import DocumentStatus as SdkDocumentStatus
from ragmesh.client import RagmeshClient, RagmeshError
from ragmesh.gateway.v1 import gateway_pb2
from ragmesh_devstack.sample_documents import HANDBOOK_MARKDOWN, manual_pdf
from ragmesh_kit.document_events import (
    DEAD_LETTER_TOPIC,
    DLQ_REASON_HEADER,
    DOCUMENTS_TOPIC,
    MAX_EVENT_BYTES,
    encode_event,
    message_key,
)
from ragmesh_kit.domain import FAILED, INDEXED, UPSERT, DocumentCommand, DocumentStatus
from ragmesh_kit.service_clients import RetrieverClient
from tests.encrypted_pdf import encrypted
from tests.eventually import eventually, eventually_async
from tests.stack import test_bad_input_helpers as h
from tests.stack.conftest import RunningStack

LIMIT = 2 * 1024 * 1024  # GATEWAY_MAX_DOCUMENT_BYTES and INDEXER_MAX_DOCUMENT_BYTES


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"text": "words", "content": b"words", "content_type": "text/plain"}, "exactly one of text and content"),
        ({"content": b"hello", "content_type": "application/msword"}, "is not supported; use one of"),
        ({"content": b"\xff\xfe# Title", "content_type": "text/markdown"}, "not UTF-8 text (byte 0 is 0xff)"),
        ({"content": b"<html></html>hello", "content_type": "application/pdf"}, "not a PDF"),
        ({"text": "%PDF-1.4", "content_type": "application/pdf"}, "send it in content"),
        ({"content": manual_pdf(pad_to=LIMIT + 1), "content_type": "application/pdf"},
         f"content is {LIMIT + 1} bytes; the limit is {LIMIT} (GATEWAY_MAX_DOCUMENT_BYTES)"),
    ],
)  # fmt: skip
def test_gateway_refuses_what_it_can_tell(running_stack: RunningStack, fields: dict[str, object], message: str) -> None:
    with RagmeshClient(running_stack.address("gateway"), running_stack.api_key) as client:
        request = gateway_pb2.SubmitDocumentRequest(document_id="bad-format", **fields)  # type: ignore[arg-type]
        with pytest.raises(RagmeshError) as refused:
            client._call(lambda: client._stub.SubmitDocument(request, metadata=client._metadata, timeout=30))
    assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert message in refused.value.details


def test_a_pdf_exactly_at_the_limit_is_indexed_through_the_gateway(running_stack: RunningStack, tmp_path) -> None:
    path = tmp_path / "padded.pdf"
    path.write_bytes(manual_pdf(pad_to=LIMIT))
    with RagmeshClient(running_stack.address("gateway"), running_stack.api_key) as client:
        submitted = client.submit_file(path, document_id="at-the-limit.pdf")

        def settled() -> SdkDocumentStatus | None:
            status = client.document_status("at-the-limit.pdf")
            return status if status.state in ("indexed", "failed") else None

        status = eventually(settled, "at-the-limit.pdf indexed or failed", timeout=120, interval=0.5)
    assert (status.state, status.version, status.chunk_count) == ("indexed", submitted.version, 3), status


BAD = {
    "encrypted.pdf": (encrypted(manual_pdf()), "application/pdf", "encrypted with a password"),
    "corrupt.pdf": (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage", "application/pdf", "the PDF could not be read"),
    "chrome-only.html": (b"<html><nav>Home</nav><script>x()</script></html>", "text/html", "has no text to index"),
    "latin1.md": ("# Caf\xe9".encode("latin-1"), "text/markdown", "not UTF-8 text"),
    "letter.doc": (b"words", "application/msword", "is not supported"),
    "huge.pdf": (manual_pdf(pad_to=LIMIT + 1), "application/pdf", "the limit is 2097152 (INDEXER_MAX_DOCUMENT_BYTES)"),
}


async def _dead_letter_reasons(bootstrap: str, keys: set[bytes], timeout: float) -> dict[bytes, str]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    reasons: dict[bytes, str] = {}
    try:
        partitions = [
            TopicPartition(DEAD_LETTER_TOPIC, p) for p in consumer.partitions_for_topic(DEAD_LETTER_TOPIC) or {0}
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + timeout
        while len(reasons) < len(keys) and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    if record.key in keys:
                        reasons[record.key] = dict(record.headers)[DLQ_REASON_HEADER].decode()
    finally:
        await consumer.stop()
    return reasons


async def test_bad_documents_on_kafka_are_dead_lettered_and_the_next_ones_indexed(running_stack: RunningStack) -> None:
    tenant = f"formats-{secrets.token_hex(4)}"
    bootstrap = f"127.0.0.1:{running_stack.settings.kafka_port}"
    good = {
        "at-the-limit.pdf": (manual_pdf(pad_to=LIMIT), "application/pdf"),
        "handbook.md": (HANDBOOK_MARKDOWN.encode(), "text/markdown"),
    }
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", max_request_size=MAX_EVENT_BYTES)
    await producer.start()
    try:
        # One partition for all, bad ones first: the good ones wait behind them.
        sent = [(name, content, media) for name, (content, media, _) in BAD.items()]
        sent += [(name, content, media) for name, (content, media) in good.items()]
        for name, content, media in sent:
            command = DocumentCommand(UPSERT, tenant, name, 1, title=name, content=content, content_type=media)
            key = message_key(tenant, name)
            await producer.send_and_wait(DOCUMENTS_TOPIC, value=encode_event(command), key=key, partition=0)
    finally:
        await producer.stop()
    channel = grpc.aio.insecure_channel(running_stack.address("retriever"))
    retriever = RetrieverClient(channel, 10)
    try:
        states: dict[str, DocumentStatus] = {}

        async def all_settled() -> bool:
            for name in [*BAD, *good]:
                status = await retriever.get_document_state(tenant, name)
                if status is not None and status.state in (FAILED, INDEXED):
                    states[name] = status
            return len(states) == len(BAD) + len(good)

        await eventually_async(all_settled, "every document indexed or failed", timeout=120, interval=0.5)
    finally:
        await channel.close()
    for name, (_, _, reason) in BAD.items():
        assert states[name].state == FAILED and reason in states[name].reason, (name, states[name])
    assert states["handbook.md"].state == INDEXED and states["handbook.md"].chunk_count == 4
    assert states["at-the-limit.pdf"].state == INDEXED and states["at-the-limit.pdf"].chunk_count == 3
    reasons = await _dead_letter_reasons(bootstrap, {message_key(tenant, name) for name in BAD}, timeout=60)
    for name, (_, _, reason) in BAD.items():
        assert reason in reasons.get(message_key(tenant, name), ""), (name, reasons)
    h.assert_all_alive(running_stack)
