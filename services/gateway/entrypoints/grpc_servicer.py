"""GatewayService: authenticates the caller, translates protobuf <-> use-case calls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
from opentelemetry import trace

from ragmesh.common.v1 import types_pb2
from ragmesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ragmesh_kit.proto_convert import (
    citation_to_proto,
    document_status_to_proto,
    filters_from_proto,
    grounding_to_proto,
    metadata_from_proto,
    retrieval_mode_from_proto,
    scored_chunk_to_proto,
    usage_to_proto,
)
from ragmesh_kit.telemetry import current_trace_id
from services.gateway.app import ask
from services.gateway.app.ask import AskQuestion, AskResult, Question
from services.gateway.app.auth import ApiKeyAuthenticator
from services.gateway.app.documents import DocumentIntake
from services.gateway.app.quotas import QuotaLeft, RetryLater
from services.gateway.app.search import SearchChunks, SearchQuery

_CACHE_STATUS = {
    ask.MISS: types_pb2.CACHE_STATUS_MISS,
    ask.EXACT_HIT: types_pb2.CACHE_STATUS_EXACT_HIT,
    ask.SEMANTIC_HIT: types_pb2.CACHE_STATUS_SEMANTIC_HIT,
    ask.BYPASSED: types_pb2.CACHE_STATUS_BYPASSED,
}
RETRY_AFTER_KEY = "retry-after-seconds"


def _api_key(context: grpc.aio.ServicerContext[Any, Any]) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key == "x-api-key":
            return str(value)
        if key == "authorization" and str(value).lower().startswith("bearer "):
            return str(value)[7:].strip()
    return None


def _quota(left: QuotaLeft) -> types_pb2.QuotaRemaining:
    return types_pb2.QuotaRemaining(tokens_this_minute=left.tokens_this_minute, tokens_today=left.tokens_today)


def _say_when_to_retry(context: grpc.aio.ServicerContext[Any, Any], refused: RetryLater) -> None:
    # The error interceptor keeps trailing metadata set here when it aborts with the status.
    context.set_trailing_metadata(((RETRY_AFTER_KEY, str(refused.retry_after_seconds)),))


class GatewayServicer(gateway_pb2_grpc.GatewayServiceServicer):
    def __init__(
        self, auth: ApiKeyAuthenticator, ask: AskQuestion, documents: DocumentIntake, search: SearchChunks
    ) -> None:
        self._auth = auth
        self._ask = ask
        self._documents = documents
        self._search = search

    def _tenant(self, context: grpc.aio.ServicerContext[Any, Any]) -> str:
        tenant = self._auth.authenticate(_api_key(context))
        trace.get_current_span().set_attribute("ragmesh.tenant_id", tenant)
        return tenant

    def _question(self, request: gateway_pb2.AskRequest | gateway_pb2.AskStreamRequest, tenant: str) -> Question:
        span = trace.get_current_span()
        span.set_attribute("ragmesh.top_k", request.top_k)
        span.set_attribute("ragmesh.bypass_cache", request.bypass_cache)
        return Question(
            tenant_id=tenant,
            text=request.question,
            top_k=request.top_k,
            filters=filters_from_proto(request.filters),
            max_context_tokens=request.max_context_tokens,
            min_score=request.min_score,
            bypass_cache=request.bypass_cache,
        )

    async def Ask(  # noqa: N802 - gRPC method name
        self, request: gateway_pb2.AskRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> gateway_pb2.AskResponse:
        try:
            result = await self._ask.answer(self._question(request, self._tenant(context)))
        except RetryLater as refused:
            _say_when_to_retry(context, refused)
            raise
        return gateway_pb2.AskResponse(
            answer=result.answer.answer,
            citations=[citation_to_proto(item) for item in result.answer.citations],
            usage=usage_to_proto(result.answer.usage),
            trace_id=current_trace_id(),
            cache=_CACHE_STATUS[result.cache],
            quota=_quota(result.quota),
            grounding=grounding_to_proto(result.answer.grounding),
        )

    async def AskStream(  # noqa: N802
        self, request: gateway_pb2.AskStreamRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[gateway_pb2.AskStreamResponse]:
        question = self._question(request, self._tenant(context))
        try:
            async for event in self._ask.stream(question):
                if isinstance(event, AskResult):
                    yield gateway_pb2.AskStreamResponse(
                        complete=gateway_pb2.AnswerComplete(
                            answer=event.answer.answer,
                            citations=[citation_to_proto(item) for item in event.answer.citations],
                            usage=usage_to_proto(event.answer.usage),
                            trace_id=current_trace_id(),
                            cache=_CACHE_STATUS[event.cache],
                            quota=_quota(event.quota),
                            grounding=grounding_to_proto(event.answer.grounding),
                        )
                    )
                else:
                    yield gateway_pb2.AskStreamResponse(piece=gateway_pb2.AnswerPiece(text=event.text))
        except RetryLater as refused:
            _say_when_to_retry(context, refused)
            raise

    async def Search(  # noqa: N802
        self, request: gateway_pb2.SearchRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> gateway_pb2.SearchResponse:
        tenant = self._tenant(context)
        span = trace.get_current_span()
        span.set_attribute("ragmesh.top_k", request.top_k)
        query = SearchQuery(
            tenant_id=tenant,
            text=request.query,
            top_k=request.top_k,
            filters=filters_from_proto(request.filters),
            min_score=request.min_score,
            mode=retrieval_mode_from_proto(request.mode),
            max_chunks_per_document=request.max_chunks_per_document,
        )
        try:
            result = await self._search.search(query)
        except RetryLater as refused:
            _say_when_to_retry(context, refused)
            raise
        return gateway_pb2.SearchResponse(
            results=[scored_chunk_to_proto(item) for item in result.chunks],
            trace_id=current_trace_id(),
            quota=_quota(result.quota),
        )

    async def SubmitDocument(  # noqa: N802
        self, request: gateway_pb2.SubmitDocumentRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> gateway_pb2.SubmitDocumentResponse:
        command = await self._documents.submit(
            self._tenant(context),
            request.document_id,
            request.text,
            request.title,
            metadata_from_proto(request.metadata),
            request.version,
            request.content,
            request.content_type,
        )
        return gateway_pb2.SubmitDocumentResponse(
            document_id=command.document_id, version=command.version, trace_id=current_trace_id()
        )

    async def DeleteDocument(  # noqa: N802
        self, request: gateway_pb2.DeleteDocumentRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> gateway_pb2.DeleteDocumentResponse:
        command = await self._documents.delete(self._tenant(context), request.document_id)
        return gateway_pb2.DeleteDocumentResponse(
            document_id=command.document_id, version=command.version, trace_id=current_trace_id()
        )

    async def GetDocumentStatus(  # noqa: N802
        self, request: gateway_pb2.GetDocumentStatusRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> gateway_pb2.GetDocumentStatusResponse:
        status = await self._documents.status(self._tenant(context), request.document_id)
        return gateway_pb2.GetDocumentStatusResponse(
            status=document_status_to_proto(status), trace_id=current_trace_id()
        )
