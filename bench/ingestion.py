"""Ingestion through Kafka to searchable: documents/s and chunks/s, and consumer lag over time."""

from __future__ import annotations

import time
import urllib.request
import uuid
from typing import Any

import grpc

from bench.corpus import topic_documents
from ragmesh.common.v1 import types_pb2
from ragmesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ragmesh.retriever.v1 import retriever_pb2, retriever_pb2_grpc
from ragmesh_devstack.settings import StackSettings
from ragmesh_kit.tokens import TokenCounter
from services.indexer.app.chunker import Chunker, ChunkingPolicy

TENANT = "tenant-b"


def _lag(port: int) -> float:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as reply:
            text = reply.read().decode()
    except OSError:
        return float("nan")
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("ragmesh_indexer_consumer_lag") and not line.startswith("#")
    )


def run(settings: StackSettings, env: dict[str, str], copies: int = 4, timeout: float = 600) -> dict[str, Any]:
    documents = topic_documents()
    chunker = Chunker(TokenCounter(), ChunkingPolicy(200, 40))
    expected = copies * sum(len(chunker.split(text)) for text in documents.values())
    run_id = uuid.uuid4().hex[:8]
    auth = (("x-api-key", env["RAGMESH_API_KEY_TENANT_B"]),)
    with (
        grpc.insecure_channel(env["GATEWAY_ADDR"]) as gateway_channel,
        grpc.insecure_channel(f"127.0.0.1:{settings.retriever_port}") as retriever_channel,
    ):
        gateway = gateway_pb2_grpc.GatewayServiceStub(gateway_channel)
        retriever = retriever_pb2_grpc.RetrieverServiceStub(retriever_channel)

        def count() -> int:
            return int(retriever.CountChunks(retriever_pb2.CountChunksRequest(tenant_id=TENANT), timeout=10).count)

        baseline = count()
        started = time.perf_counter()
        submitted = 0
        for copy in range(copies):
            for document_id, text in documents.items():
                gateway.SubmitDocument(
                    gateway_pb2.SubmitDocumentRequest(document_id=f"ingest-{run_id}-{copy}-{document_id}", text=text),
                    metadata=auth,
                    timeout=30,
                )
                submitted += 1
        publish_seconds = time.perf_counter() - started
        lag_series: list[tuple[float, float]] = []
        indexed = count() - baseline
        while indexed < expected and time.perf_counter() - started < timeout:
            lag_series.append((round(time.perf_counter() - started, 2), _lag(settings.indexer_metrics_port)))
            time.sleep(0.5)
            indexed = count() - baseline
        seconds = time.perf_counter() - started
    return {
        "documents": submitted,
        "chunks_expected": expected,
        "chunks_indexed": indexed,
        "publish_seconds": round(publish_seconds, 2),
        "seconds_to_searchable": round(seconds, 2),
        "documents_per_s": round(submitted / seconds, 2),
        "chunks_per_s": round(indexed / seconds, 2),
        "lag_over_time": lag_series,
    }


def load_corpus(env: dict[str, str], timeout: float = 300) -> int:
    """Puts CPython's reference topics into the default tenant (the corpus the Ask benchmarks, the
    in-process pipeline and the naive baseline all answer from) and waits until all are indexed."""
    auth = (("x-api-key", env["RAGMESH_API_KEY"]),)
    documents = topic_documents()
    with grpc.insecure_channel(env["GATEWAY_ADDR"]) as channel:
        gateway = gateway_pb2_grpc.GatewayServiceStub(channel)
        versions = {
            document_id: gateway.SubmitDocument(
                gateway_pb2.SubmitDocumentRequest(document_id=document_id, title=document_id, text=text),
                metadata=auth,
                timeout=30,
            ).version
            for document_id, text in documents.items()
        }
        deadline = time.monotonic() + timeout
        pending = dict(versions)
        while pending and time.monotonic() < deadline:
            for document_id, version in list(pending.items()):
                status = gateway.GetDocumentStatus(
                    gateway_pb2.GetDocumentStatusRequest(document_id=document_id), metadata=auth, timeout=10
                ).status
                if status.version >= version and status.state == types_pb2.DOCUMENT_STATE_INDEXED:
                    del pending[document_id]
            time.sleep(0.5)
    if pending:
        raise RuntimeError(f"{len(pending)} corpus documents not indexed after {timeout}s")
    return len(versions)
