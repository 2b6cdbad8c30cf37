"""GatewayService: authenticates the caller, translates protobuf <-> use-case calls."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from opentelemetry import trace

from ragmesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ragmesh_kit.domain import GeneratedAnswer
from ragmesh_kit.proto_convert import (
    citation_to_proto,
    filters_from_proto,
    metadata_from_proto,
    usage_to_proto,
)
from ragmesh_kit.telemetry import current_trace_id
from services.gateway.app.ask import AskQuestion, Question
from services.gateway.app.auth import ApiKeyAuthenticator
from services.gateway.app.documents import DocumentIntake


def _api_key(context: grpc.aio.ServicerContext) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key == "x-api-key":
            return str(value)
        if key == "authorization" and str(value).lower().startswith("bearer "):
            return str(value)[7:].strip()
    return None


class GatewayServicer(gateway_pb2_grpc.GatewayServiceServicer):
    def __init__(self, auth: ApiKeyAuthenticator, ask: AskQuestion, documents: DocumentIntake) -> None:
        self._auth = auth
        self._ask = ask
        self._documents = documents

    def _tenant(self, context: grpc.aio.ServicerContext) -> str:
        tenant = self._auth.authenticate(_api_key(context))
        trace.get_current_span().set_attribute("ragmesh.tenant_id", tenant)
        return tenant

    def _question(self, request: gateway_pb2.AskRequest | gateway_pb2.AskStreamRequest, tenant: str) -> Question:
        span = trace.get_current_span()
        span.set_attribute("ragmesh.top_k", request.top_k)
        return Question(
            tenant_id=tenant,
            text=request.question,
            top_k=request.top_k,
            filters=filters_from_proto(request.filters),
            max_context_tokens=request.max_context_tokens,
        )

    async def Ask(  # noqa: N802 - gRPC method name
        self, request: gateway_pb2.AskRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.AskResponse:
        result = await self._ask.answer(self._question(request, self._tenant(context)))
        return gateway_pb2.AskResponse(
            answer=result.answer,
            citations=[citation_to_proto(item) for item in result.citations],
            usage=usage_to_proto(result.usage),
            trace_id=current_trace_id(),
        )

    async def AskStream(  # noqa: N802
        self, request: gateway_pb2.AskStreamRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[gateway_pb2.AskStreamResponse]:
        question = self._question(request, self._tenant(context))
        async for event in self._ask.stream(question):
            if isinstance(event, GeneratedAnswer):
                yield gateway_pb2.AskStreamResponse(
                    complete=gateway_pb2.AnswerComplete(
                        answer=event.answer,
                        citations=[citation_to_proto(item) for item in event.citations],
                        usage=usage_to_proto(event.usage),
                        trace_id=current_trace_id(),
                    )
                )
            else:
                yield gateway_pb2.AskStreamResponse(piece=gateway_pb2.AnswerPiece(text=event.text))

    async def SubmitDocument(  # noqa: N802
        self, request: gateway_pb2.SubmitDocumentRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.SubmitDocumentResponse:
        command = await self._documents.submit(
            self._tenant(context),
            request.document_id,
            request.text,
            request.title,
            metadata_from_proto(request.metadata),
            request.version,
        )
        return gateway_pb2.SubmitDocumentResponse(
            document_id=command.document_id, version=command.version, trace_id=current_trace_id()
        )

    async def DeleteDocument(  # noqa: N802
        self, request: gateway_pb2.DeleteDocumentRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.DeleteDocumentResponse:
        command = await self._documents.delete(self._tenant(context), request.document_id)
        return gateway_pb2.DeleteDocumentResponse(
            document_id=command.document_id, version=command.version, trace_id=current_trace_id()
        )
