"""Load on the running mesh over gRPC: the embedder alone, and Ask end to end (streamed, for TTFT)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import grpc

from bench.load import LoadResult, run_load
from ragmesh.embedder.v1 import embedder_pb2, embedder_pb2_grpc
from ragmesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ragmesh_devstack import components
from ragmesh_devstack.processes import ProcessTable
from ragmesh_devstack.settings import StackSettings


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


def bench_gateway_env(settings: StackSettings) -> dict[str, str]:
    """The stack's gateway configuration with the tenants' quotas lifted (the benchmark measures
    speed, not the quota)."""
    return {
        "GATEWAY_EMBEDDER_ADDR": f"127.0.0.1:{settings.embedder_port}",
        "GATEWAY_RETRIEVER_ADDR": f"127.0.0.1:{settings.retriever_port}",
        "GATEWAY_GENERATOR_ADDR": f"127.0.0.1:{settings.generator_port}",
        "GATEWAY_KAFKA_BOOTSTRAP": f"127.0.0.1:{settings.kafka_port}",
        "GATEWAY_API_KEYS_FILE": str(settings.run_dir / "api-keys"),
        "GATEWAY_REQUESTS_PER_MINUTE": "100000000",
        "GATEWAY_TOKENS_PER_MINUTE": "100000000000",
        "GATEWAY_TOKENS_PER_DAY": "100000000000",
    }


@contextmanager
def bench_gateway(settings: StackSettings) -> Iterator[str]:
    """A gateway beside the stack's, identical but for the quotas, started with the same launch
    code as `make up`."""
    port = settings.gateway_port + 100
    env = bench_gateway_env(settings)
    shifted = settings.model_copy(update={"gateway_metrics_port": settings.gateway_metrics_port + 100})
    component = components.python_service(shifted, "gateway", port, env)
    table = ProcessTable(settings.run_dir)
    table.stop("gateway-bench")
    table.start(replace(component.spec, name="gateway-bench"))
    try:
        deadline = time.monotonic() + 60
        while not components.grpc_serving(port):
            if time.monotonic() > deadline or table.exited("gateway-bench"):
                raise RuntimeError(f"the benchmark gateway did not start:\n{table.tail('gateway-bench')}")
            time.sleep(0.25)
        yield f"127.0.0.1:{port}"
    finally:
        table.stop("gateway-bench")
