from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc

from ragmesh.generator.v1 import generator_pb2, generator_pb2_grpc
from ragmesh_kit.proto_convert import (
    citation_to_proto,
    grounding_to_proto,
    scored_chunk_from_proto,
    usage_to_proto,
)
from ragmesh_kit.telemetry import current_trace_id
from services.generator.app.generate_answer import AnswerDelta, GenerateAnswer


class GeneratorServicer(generator_pb2_grpc.GeneratorServiceServicer):
    def __init__(self, generate_answer: GenerateAnswer) -> None:
        self._generate_answer = generate_answer

    async def Generate(  # noqa: N802 - gRPC method name
        self, request: generator_pb2.GenerateRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[generator_pb2.GenerateResponse]:
        events = self._generate_answer(
            request.question,
            [scored_chunk_from_proto(item) for item in request.context],
            request.max_context_tokens,
            request.max_output_tokens,
        )
        async for event in events:
            if isinstance(event, AnswerDelta):
                yield generator_pb2.GenerateResponse(delta=generator_pb2.TextDelta(text=event.text))
            else:
                yield generator_pb2.GenerateResponse(
                    complete=generator_pb2.GenerationComplete(
                        answer=event.answer,
                        citations=[citation_to_proto(item) for item in event.citations],
                        usage=usage_to_proto(event.usage),
                        model=event.model,
                        trace_id=current_trace_id(),
                        grounding=grounding_to_proto(event.grounding),
                    )
                )
