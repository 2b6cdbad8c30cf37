from __future__ import annotations

from typing import Any

import grpc

from ragmesh.embedder.v1 import embedder_pb2, embedder_pb2_grpc
from ragmesh_kit.float_fields import merge_floats
from ragmesh_kit.telemetry import current_trace_id
from services.embedder.app.embed_texts import EmbedTexts


class EmbedderServicer(embedder_pb2_grpc.EmbedderServiceServicer):
    def __init__(self, embed_texts: EmbedTexts) -> None:
        self._embed_texts = embed_texts

    async def Embed(  # noqa: N802 - gRPC method name
        self, request: embedder_pb2.EmbedRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> embedder_pb2.EmbedResponse:
        result = await self._embed_texts(list(request.texts))
        reply = embedder_pb2.EmbedResponse(model=result.model, dimension=result.dimension, trace_id=current_trace_id())
        for row in result.vectors:
            merge_floats(reply.vectors.add(), "values", row)
        return reply
