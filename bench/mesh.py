"""Load on the running mesh over gRPC: the embedder alone, and Ask end to end (streamed, for TTFT)."""

from __future__ import annotations

import time

import grpc

from bench.load import LoadResult, run_load
from ragmesh.embedder.v1 import embedder_pb2, embedder_pb2_grpc
from ragmesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc


async def embedder_load(address: str, texts: list[str], concurrency: int, calls: int) -> LoadResult:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = embedder_pb2_grpc.EmbedderServiceStub(channel)

        async def call(index: int) -> None:
            await stub.Embed(embedder_pb2.EmbedRequest(texts=[texts[index % len(texts)]]), timeout=30)

        return await run_load(call, concurrency, calls, warmup_calls=4)


async def ask_load(address: str, api_key: str, questions: list[str], concurrency: int, calls: int) -> LoadResult:
    metadata = (("x-api-key", api_key),)
    async with grpc.aio.insecure_channel(address) as channel:
        stub = gateway_pb2_grpc.GatewayServiceStub(channel)

        async def call(index: int) -> float | None:
            started = time.perf_counter()
            first: float | None = None
            request = gateway_pb2.AskStreamRequest(question=questions[index % len(questions)], bypass_cache=True)
            async for event in stub.AskStream(request, metadata=metadata, timeout=60):
                if first is None and event.HasField("piece"):
                    first = time.perf_counter() - started
            return first

        return await run_load(call, concurrency, calls, warmup_calls=4)
