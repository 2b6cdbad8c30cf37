"""Bad input, property-based (hypothesis), against the real running stack: every public gateway RPC
and the internal RPCs reachable directly, with empty, huge and odd Unicode strings, wrong or NaN
vectors, invalid filters, huge numbers, unknown fields, undecodable bytes, missing or wrong keys.

Every case must get the right status or a valid answer, never UNKNOWN or INTERNAL; rejected
upserts leave no chunk behind; afterwards every process of the stack is still running. The case
counts are written to <run dir>/bad-input-cases.json (test_case_count_and_every_process_alive)."""

from __future__ import annotations

import hashlib
import json
import math
import secrets
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ragmesh.common.v1 import types_pb2
from ragmesh.embedder.v1 import embedder_pb2, embedder_pb2_grpc
from ragmesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ragmesh.generator.v1 import generator_pb2, generator_pb2_grpc
from ragmesh.retriever.v1 import retriever_pb2, retriever_pb2_grpc
from ragmesh_devstack.components import grpc_serving
from tests.stack import test_bad_input_helpers as h
from tests.stack.conftest import RunningStack
from tests.stack.test_bad_input_helpers import cases_of
from tests.stack.test_query_helpers import extra_service, gateway_env

OK, INVALID = grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT
FUZZ_TENANT = f"fuzz-{secrets.token_hex(4)}"
HUGE_TEXT = "huge " * 420_000  # 2.1 MB: over the gateway's document limit, under the request limit


DECLARED = {"year", "lang", "published"}


@dataclass(frozen=True)
class Stubs:
    key: str
    gateway: gateway_pb2_grpc.GatewayServiceStub
    embedder: embedder_pb2_grpc.EmbedderServiceStub
    retriever: retriever_pb2_grpc.RetrieverServiceStub
    generator: generator_pb2_grpc.GeneratorServiceStub
    channels: dict[str, grpc.Channel]


@pytest.fixture(scope="module")
def cases() -> h.CaseLog:
    return h.CaseLog(Counter())


@pytest.fixture(scope="module")
def stubs(running_stack: RunningStack) -> Iterator[Stubs]:
    """A gateway of its own (a fuzz tenant, limits high enough not to refuse the volume)."""
    key = f"rmk_{secrets.token_hex(16)}"
    env = gateway_env(
        running_stack,
        GATEWAY_API_KEYS=json.dumps({hashlib.sha256(key.encode()).hexdigest(): FUZZ_TENANT}),
        GATEWAY_REQUESTS_PER_MINUTE="100000",
        GATEWAY_TOKENS_PER_MINUTE="100000000",
        GATEWAY_TOKENS_PER_DAY="1000000000",
    )
    options = [("grpc.max_send_message_length", 16 * 1024 * 1024)]
    with extra_service(running_stack, "gateway", "gateway-fuzz", env) as service:
        channels = {
            name: grpc.insecure_channel(address, options=options)
            for name, address in {
                "gateway": service.address,
                **{n: running_stack.address(n) for n in ("embedder", "retriever", "generator")},
            }.items()
        }
        try:
            yield Stubs(
                key,
                gateway_pb2_grpc.GatewayServiceStub(channels["gateway"]),
                embedder_pb2_grpc.EmbedderServiceStub(channels["embedder"]),
                retriever_pb2_grpc.RetrieverServiceStub(channels["retriever"]),
                generator_pb2_grpc.GeneratorServiceStub(channels["generator"]),
                channels,
            )
        finally:
            for channel in channels.values():
                channel.close()


def _filter_invalid(item: types_pb2.MetadataFilter) -> bool:
    kind = item.WhichOneof("condition")
    if item.field not in DECLARED or kind is None:
        return True
    if kind == "any_of":
        return not item.any_of.values
    if kind == "range":
        return not any(item.range.HasField(bound) for bound in ("gt", "gte", "lt", "lte"))
    return item.equals.WhichOneof("kind") is None


def _questions() -> st.SearchStrategy[str]:
    return st.one_of(h.odd_text(200), st.just("What does the pass statement do?"), st.just("x" * 4001))


ask_requests: st.SearchStrategy[dict[str, Any]] = st.builds(
    dict,
    question=h.mostly(st.sampled_from(["What does the pass statement do?", "Wer hat das geschrieben?"]), _questions()),
    top_k=h.mostly(st.integers(0, 50), h.u32()),
    filters=h.mostly(h.good_filters(), st.lists(h.filters(), max_size=2)),
    max_context_tokens=h.mostly(st.integers(0, 6000), st.integers(6001, 2**32 - 1)),
    min_score=h.mostly(st.floats(0, 1, width=32), h.floats_any()),
    bypass_cache=st.booleans(),
)


def _ask_must_fail(fields: dict[str, object]) -> bool:
    question = str(fields["question"])
    top_k = int(fields["top_k"])  # type: ignore[call-overload]
    return (
        not question.strip() or len(question) > 4000 or top_k > 50 or any(_filter_invalid(f) for f in fields["filters"])  # type: ignore[attr-defined]
    )


@pytest.mark.parametrize("stream", [False, True], ids=["Ask", "AskStream"])
def test_ask_bad_input(stubs: Stubs, cases: h.CaseLog, stream: bool) -> None:
    rpc = "AskStream" if stream else "Ask"

    @cases_of(120 if stream else 80)
    @given(fields=ask_requests, metadata=h.mostly(st.just([("x-api-key", stubs.key)]), h.key_choice(stubs.key)))
    def case(fields: dict[str, object], metadata: list[tuple[str, str]] | None) -> None:
        if stream:
            streamed = gateway_pb2.AskStreamRequest(**fields)  # type: ignore[arg-type]
            code, result = h.status_of(lambda: stubs.gateway.AskStream(streamed, metadata=metadata, timeout=60))
        else:
            unary = gateway_pb2.AskRequest(**fields)  # type: ignore[arg-type]
            code, result = h.status_of(lambda: stubs.gateway.Ask(unary, metadata=metadata, timeout=60))
        cases.record(rpc, code)
        if not h.has_valid_key(metadata, stubs.key):
            assert code == grpc.StatusCode.UNAUTHENTICATED, (code, result)
            return
        if _ask_must_fail(fields):
            assert code == INVALID, (code, result, fields)
            return
        h.check_status(code, result, {OK, INVALID}, f"{rpc} {fields!r}")
        if code == OK:
            final = result[-1].complete if stream else result  # type: ignore[index]
            assert len(final.trace_id) == 32  # type: ignore[union-attr]

    case()


search_requests: st.SearchStrategy[dict[str, Any]] = st.builds(
    dict,
    query=h.mostly(st.sampled_from(["pass statement", "os.path.join", "--top-k"]), _questions()),
    top_k=h.mostly(st.integers(0, 50), h.u32()),
    filters=h.mostly(h.good_filters(), st.lists(h.filters(), max_size=2)),
    min_score=h.mostly(st.floats(0, 1, width=32), h.floats_any()),
    mode=h.mostly(st.integers(0, 2), st.integers(3, 2**31 - 1)),
    max_chunks_per_document=h.mostly(st.integers(0, 5), h.u32()),
)


def test_search_bad_input(stubs: Stubs, cases: h.CaseLog) -> None:
    """Search takes the statuses of Ask for the fields they share, and refuses an unknown mode."""

    @cases_of(120)
    @given(fields=search_requests, metadata=h.mostly(st.just([("x-api-key", stubs.key)]), h.key_choice(stubs.key)))
    def case(fields: dict[str, object], metadata: list[tuple[str, str]] | None) -> None:
        request = gateway_pb2.SearchRequest(**fields)  # type: ignore[arg-type]
        code, result = h.status_of(lambda: stubs.gateway.Search(request, metadata=metadata, timeout=60))
        cases.record("Search", code)
        if not h.has_valid_key(metadata, stubs.key):
            assert code == grpc.StatusCode.UNAUTHENTICATED, (code, result)
            return
        question = {**fields, "question": fields["query"]}
        if _ask_must_fail(question) or int(fields["mode"]) > 2:  # type: ignore[call-overload]
            assert code == INVALID, (code, result, fields)
            return
        h.check_status(code, result, {OK, INVALID}, f"Search {fields!r}")
        if code == OK:
            assert len(result.trace_id) == 32  # type: ignore[attr-defined]
            assert len(result.results) <= (int(fields["top_k"]) or 5)  # type: ignore[attr-defined, call-overload]

    case()


document_ids = st.one_of(h.odd_text(40), st.from_regex(r"[A-Za-z0-9._:/-]{1,40}", fullmatch=True), st.just("a" * 257))


def _valid_id(document_id: str) -> bool:
    return 1 <= len(document_id) <= 256 and all(c.isascii() and (c.isalnum() or c in "._:/-") for c in document_id)


def test_document_rpcs_bad_input(stubs: Stubs, cases: h.CaseLog) -> None:
    @cases_of(150)
    @given(
        document_id=h.mostly(st.from_regex(r"[A-Za-z0-9._:/-]{1,40}", fullmatch=True), document_ids),
        text=h.mostly(h.odd_text(300).filter(str.strip), st.one_of(h.odd_text(300), st.just(HUGE_TEXT))),
        title=h.odd_text(60),
        metadata=h.mostly(st.just({}), st.dictionaries(h.odd_text(12), h.metadata_values(), max_size=3)),
        version=st.one_of(st.just(0), st.integers(-(2**63), -1), st.integers(1, 2**63 - 1)),
        key=h.mostly(st.just([("x-api-key", stubs.key)]), h.key_choice(stubs.key)),
    )
    def submit(
        document_id: str, text: str, title: str, metadata: dict[str, Any], version: int, key: list[Any] | None
    ) -> None:
        request = gateway_pb2.SubmitDocumentRequest(
            document_id=document_id, text=text, title=title, metadata=metadata, version=version
        )
        code, result = h.status_of(lambda: stubs.gateway.SubmitDocument(request, metadata=key, timeout=30))
        cases.record("SubmitDocument", code)
        if not h.has_valid_key(key, stubs.key):
            assert code == grpc.StatusCode.UNAUTHENTICATED, (code, result)
            return
        must_fail = (
            not _valid_id(document_id)
            or not text.strip()
            or len(text.encode()) > 2 * 1024 * 1024
            or version < 0
            or any(value.WhichOneof("kind") is None for value in metadata.values())
            or any(
                value.WhichOneof("kind") == "double_value" and not math.isfinite(value.double_value)
                for value in metadata.values()
            )
        )
        h.check_status(code, result, {INVALID} if must_fail else {OK, INVALID}, f"SubmitDocument {document_id!r}")

    @cases_of(200)
    @given(document_id=document_ids, key=h.key_choice(stubs.key), delete=st.booleans())
    def delete_or_status(document_id: str, key: list[Any] | None, delete: bool) -> None:
        rpc = "DeleteDocument" if delete else "GetDocumentStatus"
        if delete:
            call = lambda: stubs.gateway.DeleteDocument(  # noqa: E731
                gateway_pb2.DeleteDocumentRequest(document_id=document_id), metadata=key, timeout=30
            )
        else:
            call = lambda: stubs.gateway.GetDocumentStatus(  # noqa: E731
                gateway_pb2.GetDocumentStatusRequest(document_id=document_id), metadata=key, timeout=30
            )
        code, result = h.status_of(call)
        cases.record(rpc, code)
        if not h.has_valid_key(key, stubs.key):
            assert code == grpc.StatusCode.UNAUTHENTICATED, (code, result)
            return
        allowed = {OK} if delete else {OK, grpc.StatusCode.NOT_FOUND}
        h.check_status(code, result, allowed if _valid_id(document_id) else {INVALID}, f"{rpc} {document_id!r}")

    submit()
    delete_or_status()


def test_embedder_bad_input(stubs: Stubs, cases: h.CaseLog) -> None:
    @cases_of(120)
    @given(
        texts=h.mostly(
            st.lists(h.odd_text(200).filter(str.strip), min_size=1, max_size=4),
            st.lists(st.one_of(h.odd_text(200), st.just("y" * 32_001)), max_size=6),
        )
    )
    def embed(texts: list[str]) -> None:
        code, result = h.status_of(lambda: stubs.embedder.Embed(embedder_pb2.EmbedRequest(texts=texts), timeout=30))
        cases.record("Embed", code)
        must_fail = not texts or any(not t.strip() or len(t) > 32_000 for t in texts)
        h.check_status(code, result, {INVALID} if must_fail else {OK}, f"Embed {texts!r:.200}")
        if code == OK:
            vectors = result.vectors  # type: ignore[attr-defined]
            assert len(vectors) == len(texts)
            assert all(len(v.values) == h.DIMENSION and all(map(math.isfinite, v.values)) for v in vectors)

    embed()


def _vector_bad(vector: list[float]) -> bool:
    return len(vector) != h.DIMENSION or not all(map(math.isfinite, vector))


tenants = st.one_of(st.just(""), h.odd_text(30).map(lambda t: f"fz-{t}"), h.odd_text(30))


def test_retriever_search_bad_input(stubs: Stubs, cases: h.CaseLog) -> None:
    @cases_of(150)
    @given(
        tenant=h.mostly(st.sampled_from([FUZZ_TENANT, "default"]), tenants),
        vector=h.vectors(),
        top_k=h.mostly(st.integers(1, 100), h.u32()),
        filters=h.mostly(h.good_filters(), st.lists(h.filters(), max_size=2)),
        threshold=h.mostly(st.floats(-1, 1, width=32), h.floats_any()),
        per_document=h.mostly(st.integers(0, 5), h.u32()),
        query_text=h.mostly(st.sampled_from(["", "os.path.join", "What does --top-k do?"]), h.odd_text(300)),
        long_text=st.integers(0, 40),
        mode=h.mostly(st.integers(0, 2), st.integers(3, 2**31 - 1)),
    )
    def search(
        tenant: str,
        vector: list[float],
        top_k: int,
        filters: list[Any],
        threshold: float,
        per_document: int,
        query_text: str,
        long_text: int,
        mode: int,
    ) -> None:
        if long_text == 0:  # now and then a query text over the 8,000-character limit
            query_text = "z" * 8001
        request = retriever_pb2.SearchRequest(
            tenant_id=tenant,
            vector=vector,
            top_k=top_k,
            filters=filters,
            score_threshold=threshold,
            max_chunks_per_document=per_document,
            query_text=query_text,
            mode=mode,  # type: ignore[arg-type]
        )
        code, result = h.status_of(lambda: stubs.retriever.Search(request, timeout=30))
        cases.record("R.Search", code)
        must_fail = (
            not tenant
            or _vector_bad(vector)
            or not 1 <= top_k <= 100
            or not math.isfinite(threshold)
            or any(_filter_invalid(f) for f in filters)
            or len(query_text) > 8000
            or mode > 2
            or (mode == types_pb2.RETRIEVAL_MODE_HYBRID and not query_text.strip())
        )
        h.check_status(code, result, {INVALID} if must_fail else {OK, INVALID}, f"Search {tenant!r} k={top_k}")

    search()


def _record(chunk_id: str, document_id: str, text: str, vector: list[float]) -> retriever_pb2.ChunkRecord:
    chunk = types_pb2.Chunk(chunk_id=chunk_id, document_id=document_id, version=1, title="t", text=text)
    return retriever_pb2.ChunkRecord(chunk=chunk, vector=vector)


def test_retriever_rejected_writes_leave_nothing_and_reads_answer(stubs: Stubs, cases: h.CaseLog) -> None:
    tenant = f"{FUZZ_TENANT}-upsert"
    good = [0.5 / math.sqrt(h.DIMENSION) * 2] * h.DIMENSION
    records = st.builds(_record, h.odd_text(20), h.odd_text(20), h.odd_text(100), st.one_of(h.vectors(), st.just(good)))

    @cases_of(120)
    @given(batch=st.lists(records, max_size=5), empty_tenant=st.booleans(), oversized=st.integers(0, 30))
    def upsert(batch: list[retriever_pb2.ChunkRecord], empty_tenant: bool, oversized: int) -> None:
        if oversized == 0:  # now and then one record over the 1,024 limit, all of them good
            batch = [_record(f"c{i}", "d", "text", good) for i in range(1025)]
        bad = (
            empty_tenant
            or not batch
            or len(batch) > 1024
            or any(not r.chunk.chunk_id or not r.chunk.document_id or _vector_bad(list(r.vector)) for r in batch)
        )
        if not bad:  # keep one valid-looking batch invalid: a NaN in its last record
            batch[-1].vector[0] = math.nan
        request = retriever_pb2.UpsertRequest(tenant_id="" if empty_tenant else tenant, records=batch)
        code, result = h.status_of(lambda: stubs.retriever.Upsert(request, timeout=30))
        cases.record("Upsert", code)
        h.check_status(code, result, {INVALID}, "Upsert of a bad batch")

    @cases_of(120)
    @given(tenant=tenants, document_id=h.odd_text(30), below=st.integers(-(2**63), 2**63 - 1), rpc=st.integers(0, 2))
    def reads_and_deletes(tenant: str, document_id: str, below: int, rpc: int) -> None:
        prefixed = f"fz-{tenant}" if tenant else ""  # deletes never touch a real tenant
        name, call = [
            (
                "R.DeleteDocument",
                lambda: stubs.retriever.DeleteDocument(
                    retriever_pb2.DeleteDocumentRequest(
                        tenant_id=prefixed, document_id=document_id, below_version=below
                    ),
                    timeout=30,
                ),
            ),
            (
                "GetDocumentState",
                lambda: stubs.retriever.GetDocumentState(
                    retriever_pb2.GetDocumentStateRequest(tenant_id=tenant, document_id=document_id), timeout=30
                ),
            ),
            (
                "CountChunks",
                lambda: stubs.retriever.CountChunks(
                    retriever_pb2.CountChunksRequest(tenant_id=tenant, document_id=document_id), timeout=30
                ),
            ),
        ][rpc]
        code, result = h.status_of(call)
        cases.record(name, code)
        must_fail = not tenant or (rpc == 0 and not document_id)
        h.check_status(code, result, {INVALID} if must_fail else {OK, INVALID}, f"{name} {tenant!r} {document_id!r}")

    upsert()
    reads_and_deletes()
    count = stubs.retriever.CountChunks(retriever_pb2.CountChunksRequest(tenant_id=tenant), timeout=30)
    assert count.count == 0, "a rejected upsert wrote chunks"


def _scored(text: str, title: str, score: float) -> types_pb2.ScoredChunk:
    chunk = types_pb2.Chunk(chunk_id="c", document_id="d", version=1, title=title, text=text)
    return types_pb2.ScoredChunk(chunk=chunk, score=score)


def test_generator_bad_input(stubs: Stubs, cases: h.CaseLog) -> None:
    scored = st.builds(_scored, h.odd_text(200), h.odd_text(30), h.floats_any())

    @cases_of(100)
    @given(
        question=h.mostly(st.just("What happens?"), _questions()),
        context=h.mostly(st.lists(scored, max_size=4), st.just([_scored("many", "t", 0.5)] * 65)),
        max_context=h.mostly(st.integers(0, 6000), st.integers(6001, 2**32 - 1)),
        max_output=h.mostly(st.integers(0, 1024), st.integers(1025, 2**32 - 1)),
    )
    def generate(question: str, context: list[Any], max_context: int, max_output: int) -> None:
        request = generator_pb2.GenerateRequest(
            question=question, context=context, max_context_tokens=max_context, max_output_tokens=max_output
        )
        code, result = h.status_of(lambda: stubs.generator.Generate(request, timeout=60))
        cases.record("Generate", code)
        must_fail = not question.strip() or len(context) > 64 or max_context > 6000 or max_output > 1024
        h.check_status(code, result, {INVALID} if must_fail else {OK, INVALID}, f"Generate {question!r:.80}")
        if code == OK:
            assert result[-1].WhichOneof("event") == "complete"  # type: ignore[index]

    generate()


def _raw_targets(stubs: Stubs) -> list[tuple[str, str, bytes, bool, list[tuple[str, str]] | None]]:
    """(channel, method path, a base request, server streaming, metadata) for every RPC."""
    key = [("x-api-key", stubs.key)]
    vector = [0.05] * h.DIMENSION
    g, r = "/ragmesh.gateway.v1.GatewayService/", "/ragmesh.retriever.v1.RetrieverService/"
    return [
        ("gateway", g + "Ask", gateway_pb2.AskRequest(question="What does pass do?").SerializeToString(), False, key),
        ("gateway", g + "AskStream", gateway_pb2.AskStreamRequest(question="What?").SerializeToString(), True, key),
        ("gateway", g + "SubmitDocument", gateway_pb2.SubmitDocumentRequest(text="x").SerializeToString(), False, key),
        (
            "gateway",
            g + "DeleteDocument",
            gateway_pb2.DeleteDocumentRequest(document_id="u").SerializeToString(),
            False,
            key,
        ),
        ("gateway", g + "Search", gateway_pb2.SearchRequest(query="os.path.join").SerializeToString(), False, key),
        (
            "gateway",
            g + "GetDocumentStatus",
            gateway_pb2.GetDocumentStatusRequest(document_id="never").SerializeToString(),
            False,
            key,
        ),
        (
            "embedder",
            "/ragmesh.embedder.v1.EmbedderService/Embed",
            embedder_pb2.EmbedRequest(texts=["hi"]).SerializeToString(),
            False,
            None,
        ),
        (
            "retriever",
            r + "Search",
            retriever_pb2.SearchRequest(tenant_id="fz", vector=vector, top_k=3).SerializeToString(),
            False,
            None,
        ),
        ("retriever", r + "Upsert", retriever_pb2.UpsertRequest(tenant_id="fz").SerializeToString(), False, None),
        (
            "retriever",
            r + "DeleteDocument",
            retriever_pb2.DeleteDocumentRequest(tenant_id="fz", document_id="d").SerializeToString(),
            False,
            None,
        ),
        (
            "retriever",
            r + "GetDocumentState",
            retriever_pb2.GetDocumentStateRequest(tenant_id="fz", document_id="d").SerializeToString(),
            False,
            None,
        ),
        (
            "retriever",
            r + "CountChunks",
            retriever_pb2.CountChunksRequest(tenant_id="fz").SerializeToString(),
            False,
            None,
        ),
        (
            "generator",
            "/ragmesh.generator.v1.GeneratorService/Generate",
            generator_pb2.GenerateRequest(question="q").SerializeToString(),
            True,
            None,
        ),
    ]


def test_unknown_fields_are_ignored_and_undecodable_bytes_refused(stubs: Stubs, cases: h.CaseLog) -> None:
    targets = _raw_targets(stubs)
    expected = {}
    for channel, path, base, stream, metadata in targets:
        method = h.raw_method(stubs.channels[channel], path, stream)
        expected[path] = h.status_of(partial(method, base, metadata=metadata, timeout=60))[0]

    @cases_of(120)
    @given(
        target=st.sampled_from(targets),
        seed=st.integers(0, 2**31 - 1),
        garbage=st.binary(max_size=48),
        raw=st.booleans(),
    )
    def call(target: tuple[Any, ...], seed: int, garbage: bytes, raw: bool) -> None:
        channel, path, base, stream, metadata = target
        method = h.raw_method(stubs.channels[channel], path, stream)
        payload = (b"\xff" + garbage) if raw else base + h.unknown_fields(seed)
        code, result = h.status_of(lambda: method(payload, metadata=metadata, timeout=60))
        cases.record("raw-bytes" if raw else "unknown-fields", code)
        if raw:  # 0xff starts no valid field: never parses
            assert code == INVALID, (path, code, result)
        else:
            assert code == expected[path], (path, code, result)

    call()


def test_case_count_and_every_process_alive(running_stack: RunningStack, stubs: Stubs, cases: h.CaseLog) -> None:
    h.assert_all_alive(running_stack, extra=("gateway-fuzz",))
    for name in ("embedder", "retriever", "generator"):
        assert grpc_serving(getattr(running_stack.settings, f"{name}_port")), f"{name} not serving"
    cases.save(running_stack, "bad-input-cases")
    print(f"\nbad-input cases: {cases.counts['total']} {cases.by_rpc()}")
    assert cases.counts["total"] >= 1000
    assert not any(k.endswith((" UNKNOWN", " INTERNAL")) for k in cases.counts)
