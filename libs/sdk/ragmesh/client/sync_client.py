"""Blocking client of the gateway."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import grpc

from ragmesh.client.requests import (
    MetadataInput,
    ask_fields,
    backoff_seconds,
    file_request,
    search_request,
    submit_request,
)
from ragmesh.client.types import (
    Answer,
    AnswerPiece,
    DocumentStatus,
    SearchResults,
    Submitted,
    answer_from,
    error_from,
    search_results_from,
    status_from,
)
from ragmesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc

T = TypeVar("T")


class RagmeshClient:
    def __init__(
        self,
        address: str,
        api_key: str,
        timeout_seconds: float = 30.0,
        retries: int = 3,
        channel: grpc.Channel | None = None,
    ) -> None:
        self._channel = channel or grpc.insecure_channel(address)
        self._stub = gateway_pb2_grpc.GatewayServiceStub(self._channel)
        self._metadata = [("x-api-key", api_key)]
        self._timeout = timeout_seconds
        self._retries = retries

    def __enter__(self) -> RagmeshClient:
        return self

    def __exit__(self, *exc: object | TracebackType) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()

    def _call(self, call: Callable[[], T]) -> T:
        """Retries UNAVAILABLE (a restarting dependency) with backoff; other errors at once."""
        attempt = 0
        while True:
            try:
                return call()
            except grpc.RpcError as error:
                failure = error_from(error)
                if failure.code != grpc.StatusCode.UNAVAILABLE or attempt >= self._retries:
                    raise failure from error
                time.sleep(backoff_seconds(attempt))
                attempt += 1

    def ask(self, question: str, top_k: int = 0, max_context_tokens: int = 0, bypass_cache: bool = False) -> Answer:
        request = gateway_pb2.AskRequest(**ask_fields(question, top_k, max_context_tokens, bypass_cache))  # type: ignore[arg-type]
        reply = self._call(lambda: self._stub.Ask(request, metadata=self._metadata, timeout=self._timeout))
        return answer_from(reply.answer, list(reply.citations), reply.usage, reply.trace_id, reply.cache)

    def ask_stream(
        self, question: str, top_k: int = 0, max_context_tokens: int = 0, bypass_cache: bool = False
    ) -> Iterator[AnswerPiece | Answer]:
        """Yields AnswerPiece as the answer streams, then one Answer with citations and usage."""
        request = gateway_pb2.AskStreamRequest(**ask_fields(question, top_k, max_context_tokens, bypass_cache))  # type: ignore[arg-type]
        try:
            for event in self._stub.AskStream(request, metadata=self._metadata, timeout=self._timeout):
                if event.HasField("piece"):
                    yield AnswerPiece(event.piece.text)
                else:
                    done = event.complete
                    yield answer_from(done.answer, list(done.citations), done.usage, done.trace_id, done.cache)
        except grpc.RpcError as error:
            raise error_from(error) from error

    def submit_document(
        self, document_id: str, text: str, title: str = "", metadata: MetadataInput | None = None, version: int = 0
    ) -> Submitted:
        request = submit_request(document_id, text, title, metadata, version)
        reply = self._call(lambda: self._stub.SubmitDocument(request, metadata=self._metadata, timeout=self._timeout))
        return Submitted(reply.document_id, reply.version, reply.trace_id)

    def submit_file(
        self,
        path: str | Path,
        document_id: str | None = None,
        title: str | None = None,
        metadata: MetadataInput | None = None,
        version: int = 0,
    ) -> Submitted:
        """Submits a file as it is: .md/.markdown, .html/.htm, .pdf, .txt/.text/.rst, sent as bytes
        with the content type of its extension (ValueError for another extension). The document id
        defaults to the file's name, the title to the name without its extension."""
        request = file_request(Path(path), document_id, title, metadata, version)
        reply = self._call(lambda: self._stub.SubmitDocument(request, metadata=self._metadata, timeout=self._timeout))
        return Submitted(reply.document_id, reply.version, reply.trace_id)

    def delete_document(self, document_id: str) -> Submitted:
        request = gateway_pb2.DeleteDocumentRequest(document_id=document_id)
        reply = self._call(lambda: self._stub.DeleteDocument(request, metadata=self._metadata, timeout=self._timeout))
        return Submitted(reply.document_id, reply.version, reply.trace_id)

    def document_status(self, document_id: str) -> DocumentStatus:
        request = gateway_pb2.GetDocumentStatusRequest(document_id=document_id)
        reply = self._call(
            lambda: self._stub.GetDocumentStatus(request, metadata=self._metadata, timeout=self._timeout)
        )
        return status_from(reply)

    def search(
        self, query: str, top_k: int = 0, min_score: float = 0.0, mode: str = "", max_chunks_per_document: int = 0
    ) -> SearchResults:
        """The tenant's best chunks for ``query`` (no answer generated). ``mode``: "dense", "hybrid"
        or "" for the server's default (hybrid); 0 for top_k, min_score and max_chunks_per_document
        means the server's defaults."""
        request = search_request(query, top_k, min_score, mode, max_chunks_per_document)
        reply = self._call(lambda: self._stub.Search(request, metadata=self._metadata, timeout=self._timeout))
        return search_results_from(reply)
