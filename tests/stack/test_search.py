"""GatewayService/Search on the real stack: auth, tenant isolation, limits, results, the SDK and the
CLI, and hybrid retrieval finding identifiers that dense retrieval alone ranks low."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import subprocess
import time
from pathlib import Path
from typing import Any

import grpc
import pytest

from ragmesh.client import AsyncRagmeshClient, RagmeshClient
from ragmesh.common.v1 import types_pb2
from ragmesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from tests.eventually import eventually
from tests.stack.conftest import RunningStack
from tests.stack.test_query_helpers import extra_service, gateway_env, rpc_error, trailers

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "data" / "identifiers" / "corpus.jsonl"
DENSE, HYBRID = types_pb2.RETRIEVAL_MODE_DENSE, types_pb2.RETRIEVAL_MODE_HYBRID
# Measured through this stack (MiniLM int8): hybrid 0.99-1.00 on the API names, 1.00 on the flags, dense alone
# 0.69-0.70 and 0.56-0.60 (int8 embeddings vary a little with their batch). The floor leaves room for a model change.
HYBRID_RECALL_AT_5 = 0.95


def _search(
    stub: gateway_pb2_grpc.GatewayServiceStub, key: str, query: str, **fields: object
) -> gateway_pb2.SearchResponse:
    request = gateway_pb2.SearchRequest(query=query, **fields)  # type: ignore[arg-type]
    reply: gateway_pb2.SearchResponse = stub.Search(request, metadata=[("x-api-key", key)], timeout=30)
    return reply


def _submit_and_wait(stub: gateway_pb2_grpc.GatewayServiceStub, key: str, documents: list[dict[str, Any]]) -> None:
    """Submits through the gateway (Kafka) and waits until each is indexed at its version."""
    versions = {}
    for doc in documents:
        reply = stub.SubmitDocument(
            gateway_pb2.SubmitDocumentRequest(
                document_id=doc["document_id"], title=doc["title"], text=doc["text"], metadata=doc.get("metadata", {})
            ),
            metadata=[("x-api-key", key)],
            timeout=15,
        )
        versions[doc["document_id"]] = reply.version
    pending = dict(versions)

    def all_indexed() -> bool:
        for document_id, version in list(pending.items()):
            status = stub.GetDocumentStatus(
                gateway_pb2.GetDocumentStatusRequest(document_id=document_id), metadata=[("x-api-key", key)], timeout=15
            ).status
            if status.state == types_pb2.DOCUMENT_STATE_INDEXED and status.version == version:
                del pending[document_id]
        assert not pending, f"not indexed: {sorted(pending)[:5]}"
        return True

    eventually(all_indexed, "every document indexed", timeout=180, interval=0.5)


@pytest.fixture(scope="module")
def identifiers(running_stack: RunningStack, gateway) -> list[dict[str, Any]]:
    corpus = [json.loads(line) for line in CORPUS.read_text().splitlines() if line.strip()]
    _submit_and_wait(gateway, running_stack.api_key_tenant_b, corpus)
    return corpus


def _recall(
    gateway, key: str, corpus: list[dict[str, Any]], prefix: str, mode: int, min_score: float
) -> tuple[float, list[str]]:
    asked = [doc for doc in corpus if doc["document_id"].startswith(prefix)]
    missed = []
    for doc in asked:
        reply = _search(gateway, key, doc["question"], top_k=5, mode=mode, min_score=min_score)
        if doc["document_id"] not in [r.chunk.document_id for r in reply.results]:
            missed.append(doc["question"])
    return 1 - len(missed) / len(asked), missed


@pytest.mark.parametrize("prefix", ["api-", "python-option"], ids=["api-names", "flags"])
def test_hybrid_finds_identifiers_dense_ranks_low(
    running_stack: RunningStack, gateway, identifiers, prefix: str
) -> None:
    key = running_stack.api_key_tenant_b
    # Ranking quality: min_score -1 keeps every hit (a cosine is never below -1), as the golden
    # set's recall does by calling the retriever without a threshold.
    count = sum(d["document_id"].startswith(prefix) for d in identifiers)
    started = time.perf_counter()
    dense, dense_missed = _recall(gateway, key, identifiers, prefix, DENSE, -1)
    dense_ms = (time.perf_counter() - started) * 1000 / count
    started = time.perf_counter()
    hybrid, hybrid_missed = _recall(gateway, key, identifiers, prefix, HYBRID, -1)
    hybrid_ms = (time.perf_counter() - started) * 1000 / count
    # With the server's default min_score (0.15 cosine), hits found by their terms alone whose text
    # is semantically far from the question are left out in both modes.
    dense_default, _ = _recall(gateway, key, identifiers, prefix, DENSE, 0)
    hybrid_default, _ = _recall(gateway, key, identifiers, prefix, HYBRID, 0)
    print(
        f"\n{prefix} recall@5 ({count} questions): dense {dense:.3f}, hybrid {hybrid:.3f}"
        f" (mean Search at c=1 through the gateway: dense {dense_ms:.1f} ms, hybrid {hybrid_ms:.1f} ms);"
        f" with the default min_score: dense {dense_default:.3f}, hybrid {hybrid_default:.3f}"
    )
    print(f"  dense misses (first 5): {dense_missed[:5]}; hybrid misses: {hybrid_missed}")
    assert hybrid >= HYBRID_RECALL_AT_5, hybrid_missed
    assert hybrid > dense  # the identifiers dense misses are what hybrid is for
    # One case shown in full: dense ranks the named note outside the top 5, hybrid inside.
    question = "What does os.path.join do?" if prefix == "api-" else "What does the python -b option do?"
    expected = "api-os.path.join" if prefix == "api-" else "python-option-b"
    assert question in dense_missed
    ranked = [r.chunk.document_id for r in _search(gateway, key, question, top_k=5, mode=HYBRID, min_score=-1).results]
    print(f"  {question!r}: hybrid top 5 {ranked}")
    assert expected in ranked


def test_search_returns_chunks_with_text_title_metadata_and_cosine_scores(running_stack: RunningStack, gateway) -> None:
    key = running_stack.api_key
    text = "The retry budget of the frobnicator is set by frob.max_retries; it defaults to seven attempts."
    _submit_and_wait(
        gateway,
        key,
        [
            {
                "document_id": "search-frob",
                "title": "Frobnicator",
                "text": text,
                "metadata": {"lang": types_pb2.MetadataValue(string_value="en")},
            }
        ],
    )
    reply = _search(gateway, key, "frob.max_retries", top_k=3)
    assert len(reply.trace_id) == 32 and reply.quota.tokens_today > 0
    top = reply.results[0]
    assert top.chunk.document_id == "search-frob" and top.chunk.title == "Frobnicator"
    assert top.chunk.text == text and top.chunk.metadata["lang"].string_value == "en"
    assert 0 < top.score <= 1  # a cosine, in both modes
    dense = _search(gateway, key, "frob.max_retries", top_k=3, mode=DENSE)
    assert [r.chunk.chunk_id for r in dense.results][:1] == [top.chunk.chunk_id]
    assert dense.results[0].score == pytest.approx(top.score, abs=1e-5)
    filtered = _search(
        gateway,
        key,
        "frob.max_retries",
        filters=[types_pb2.MetadataFilter(field="lang", equals=types_pb2.MetadataValue(string_value="de"))],
    )
    assert "search-frob" not in [r.chunk.document_id for r in filtered.results]


def test_search_needs_a_key_and_stays_in_the_tenant(running_stack: RunningStack, gateway, identifiers) -> None:
    request = gateway_pb2.SearchRequest(query="What does os.path.join do?")
    assert rpc_error(lambda: gateway.Search(request, timeout=10)).code() == grpc.StatusCode.UNAUTHENTICATED
    wrong = [("x-api-key", "rmk_" + secrets.token_hex(16))]
    assert (
        rpc_error(lambda: gateway.Search(request, metadata=wrong, timeout=10)).code() == grpc.StatusCode.UNAUTHENTICATED
    )
    # The identifier corpus belongs to tenant-b: the default tenant finds none of it, in either mode.
    for mode in (DENSE, HYBRID):
        found = _search(gateway, running_stack.api_key, "What does os.path.join do?", top_k=50, mode=mode).results
        assert not [r.chunk.document_id for r in found if r.chunk.document_id.startswith(("api-", "python-option"))]


def test_search_limits_match_ask(running_stack: RunningStack, gateway) -> None:
    key = [("x-api-key", running_stack.api_key)]
    for request, message in [
        (gateway_pb2.SearchRequest(query="x", top_k=51), "top_k is 51; the limit is 50"),
        (gateway_pb2.SearchRequest(query=" "), "query is empty"),
        (gateway_pb2.SearchRequest(query="x" * 4001), "query has 4001 characters; the limit is 4000"),
        (gateway_pb2.SearchRequest(query="x", min_score=2), "min_score is 2"),
        (gateway_pb2.SearchRequest(query="x", mode=7), "mode 7 is unknown"),  # type: ignore[arg-type]
    ]:
        error = rpc_error(lambda r=request: gateway.Search(r, metadata=key, timeout=10))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and message in (error.details() or ""), error
    ask = rpc_error(lambda: gateway.Ask(gateway_pb2.AskRequest(question="x", top_k=51), metadata=key, timeout=10))
    assert ask.details() == "top_k is 51; the limit is 50"


def test_search_draws_on_the_rate_limit_with_ask(running_stack: RunningStack) -> None:
    key = f"rmk_{secrets.token_hex(16)}"
    env = gateway_env(
        running_stack,
        GATEWAY_API_KEYS=json.dumps({hashlib.sha256(key.encode()).hexdigest(): "search-tight"}),
        GATEWAY_TENANT_LIMITS=json.dumps({"search-tight": {"rpm": 2, "burst": 2}}),
    )
    with (
        extra_service(running_stack, "gateway", "gateway-search-tight", env) as service,
        grpc.insecure_channel(service.address) as channel,
    ):
        stub = gateway_pb2_grpc.GatewayServiceStub(channel)
        _search(stub, key, "first")
        _search(stub, key, "second")
        error = rpc_error(lambda: _search(stub, key, "third"))
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, error
        assert int(trailers(error)["retry-after-seconds"]) >= 1


def test_sdk_and_cli_search(running_stack: RunningStack, identifiers) -> None:
    address, key = running_stack.address("gateway"), running_stack.api_key_tenant_b
    with RagmeshClient(address, key) as client:
        results = client.search("What does shutil.copyfileobj do?", top_k=5, min_score=-1)
        hit = next(h for h in results.hits if h.document_id == "api-shutil.copyfileobj")
        assert hit.title == "shutil.copyfileobj" and hit.text and len(results.trace_id) == 32
        with pytest.raises(ValueError, match="mode 'fuzzy' is unknown"):
            client.search("x", mode="fuzzy")

    async def run_async() -> list[str]:
        async with AsyncRagmeshClient(address, key) as client:
            found = await client.search("What does the python --help-env option do?", top_k=5, mode="hybrid")
            return [hit.document_id for hit in found.hits]

    assert "python-option--help-env" in asyncio.run(run_async())
    command = [str(ROOT / "bin/ragmesh"), "search", "What does glob.escape do?", "--top-k", "5", "--json"]
    done = subprocess.run(
        [*command, "--gateway", address, "--api-key", key], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    hits = json.loads(done.stdout)["hits"]
    assert 1 <= len(hits) <= 5 and all({"document_id", "text", "title", "score"} <= set(hit) for hit in hits)
