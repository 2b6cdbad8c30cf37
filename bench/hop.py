"""The CPU cost of one mesh hop, without models: a caller process sends Embed calls through the
kit's client (``EmbedderClient`` on ``open_channel``) to a server process started by the kit's
bootstrap (``ragmesh_kit.server``: interceptors, health, metrics, access log) whose servicer
answers at once. Both trace every call to the OTLP endpoint, as in the stack. Run for two source
trees in alternation, it isolates what the kit's per-call machinery costs:

    python -m bench.hop --base HEAD~1 [--head REV] [--rounds 3] [--calls 4000]
    python -m bench.hop --env-b OTEL_TRACES_SAMPLER=parentbased_traceidratio --env-b OTEL_TRACES_SAMPLER_ARG=0.1
    python -m bench.hop --bare-a     # A: grpc.aio alone (no kit, no span, no log): the floor of a hop

CPU seconds are read from /proc for each process; ratios B/A are what compare."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.cpu import process_tree_seconds

ROOT = Path(__file__).resolve().parents[1]
VECTOR = [0.1] * 384


def _echo() -> Any:
    """The servicer both servers run: Embed answered at once with a fixed vector per text."""
    from ragmesh.embedder.v1 import embedder_pb2, embedder_pb2_grpc

    class Echo(embedder_pb2_grpc.EmbedderServiceServicer):
        async def Embed(self, request: Any, context: Any) -> Any:  # noqa: N802 - gRPC method name
            return embedder_pb2.EmbedResponse(vectors=[embedder_pb2.Vector(values=VECTOR) for _ in request.texts])

    return Echo()


def _serve(port: int) -> None:
    import grpc

    from ragmesh.embedder.v1 import embedder_pb2, embedder_pb2_grpc
    from ragmesh_kit.runner import run_service
    from ragmesh_kit.server import GrpcService
    from ragmesh_kit.settings import ServiceSettings

    settings = ServiceSettings(service_name="hop", port=port, client_health_checks=False)

    async def build(provider: Any) -> GrpcService:
        def register(server: grpc.aio.Server) -> None:
            embedder_pb2_grpc.add_EmbedderServiceServicer_to_server(_echo(), server)

        return GrpcService(
            settings=settings,
            tracer_provider=provider,
            service_names=[embedder_pb2.DESCRIPTOR.services_by_name["EmbedderService"].full_name],
            register=register,
        )

    run_service(settings, build)


def _serve_bare(port: int) -> None:
    """The same answer from a grpc.aio server with nothing of the kit: the floor of a hop."""
    import grpc
    from grpc_health.v1 import health, health_pb2_grpc

    from ragmesh.embedder.v1 import embedder_pb2_grpc

    async def main() -> None:
        server = grpc.aio.server()
        embedder_pb2_grpc.add_EmbedderServiceServicer_to_server(_echo(), server)
        # Health only, for the readiness probe that waits for the server (not called under load).
        health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        await server.wait_for_termination()

    asyncio.run(main())


def _drive_bare(port: int, concurrency: int, calls: int, server_pid: int) -> None:
    import grpc

    from ragmesh.embedder.v1 import embedder_pb2, embedder_pb2_grpc

    async def main() -> dict[str, float]:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = embedder_pb2_grpc.EmbedderServiceStub(channel)

            async def embed(text: str) -> None:
                await stub.Embed(embedder_pb2.EmbedRequest(texts=[text]), timeout=10.0)

            return await _load(embed, concurrency, calls, server_pid)

    print(json.dumps(asyncio.run(main())))


async def _load(
    embed: Callable[[str], Awaitable[None]], concurrency: int, calls: int, server_pid: int
) -> dict[str, float]:
    for _ in range(200):
        await embed("warm")
    done = 0

    async def caller() -> None:
        nonlocal done
        while done < calls:
            done += 1
            await embed("What does the with statement do?")

    own, served = time.process_time(), process_tree_seconds(server_pid)
    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    own, served = time.process_time() - own, process_tree_seconds(server_pid) - served
    return {
        "calls_per_s": round(calls / seconds, 1),
        "caller_cpu_us": round(own / calls * 1e6, 1),
        "server_cpu_us": round(served / calls * 1e6, 1),
    }


def _drive(port: int, concurrency: int, calls: int, server_pid: int) -> None:
    from opentelemetry import trace

    from ragmesh_kit import channels
    from ragmesh_kit.service_clients import EmbedderClient
    from ragmesh_kit.telemetry import create_tracer_provider

    provider = create_tracer_provider("hop-caller", os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", ""))
    tracer = provider.get_tracer("hop")

    async def main() -> dict[str, float]:
        target = f"127.0.0.1:{port}"
        try:
            channel = channels.open_channel(target, health_checked=False)
        except TypeError:  # the kit before client spans took the tracer provider
            channel = channels.open_channel(target, provider, health_checked=False)  # type: ignore[arg-type]
        client = EmbedderClient(channel, 10.0)

        async def embed(text: str) -> None:
            # A server span around each call, as a service calling its dependency has.
            with tracer.start_as_current_span("caller", kind=trace.SpanKind.SERVER):
                await client.embed([text])

        result = await _load(embed, concurrency, calls, server_pid)
        await channel.close()
        return result

    result = asyncio.run(main())
    provider.shutdown()
    print(json.dumps(result))


def _run(
    source: Path, port: int, concurrency: int, calls: int, extra: dict[str, str], bare: bool = False
) -> dict[str, float]:
    env = {
        **os.environ,
        # The variant's kit first; this tree's bench package after it (the variant may lack hop.py).
        "PYTHONPATH": ":".join([str(source / "libs"), str(source / "libs/gen"), str(ROOT)]),
        "RAGMESH_LOG_LEVEL": "INFO",
        **extra,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.hop", "_serve_bare" if bare else "_serve", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        from ragmesh_devstack.components import grpc_serving

        deadline = time.monotonic() + 60
        while not grpc_serving(port):
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the hop server did not start")
            time.sleep(0.2)
        out = subprocess.run(
            [
                *(sys.executable, "-m", "bench.hop", "_drive_bare" if bare else "_drive"),
                *(str(port), str(concurrency), str(calls), str(server.pid)),
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            raise RuntimeError(f"the caller failed:\n{out.stderr[-3000:]}")
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> int:
    roles: dict[str, Callable[..., None]] = {
        "_serve": _serve,
        "_serve_bare": _serve_bare,
        "_drive": _drive,
        "_drive_bare": _drive_bare,
    }
    if len(sys.argv) > 1 and sys.argv[1] in roles:
        roles[sys.argv[1]](*(int(value) for value in sys.argv[2:]))
        return 0
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="HEAD", help="git revision for A")
    parser.add_argument("--head", help="git revision for B (default: the working tree now)")
    parser.add_argument("--env-a", action="append", default=[], help="NAME=VALUE for side A's processes")
    parser.add_argument("--env-b", action="append", default=[], help="NAME=VALUE for side B's processes")
    parser.add_argument(
        "--bare-a", action="store_true", help="A: grpc.aio server and stub alone, no kit (the floor of a hop)"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--port", type=int, default=int(os.environ.get("RAGMESH_HOP_PORT", "0")) or 47100)
    args = parser.parse_args()
    from bench.ab import export_tree, snapshot_worktree  # not in the server's and caller's imports

    with tempfile.TemporaryDirectory() as scratch:
        trees = {
            "A": export_tree(args.base, Path(scratch) / "a"),
            "B": export_tree(args.head, Path(scratch) / "b") if args.head else snapshot_worktree(Path(scratch) / "b"),
        }
        extra = {
            "A": dict(pair.split("=", 1) for pair in args.env_a),
            "B": dict(pair.split("=", 1) for pair in args.env_b),
        }
        rows: list[dict[str, Any]] = []
        for index in range(args.rounds):
            for name in ("A", "B") if index % 2 == 0 else ("B", "A"):
                bare = args.bare_a and name == "A"
                row = {"variant": name, **_run(trees[name], args.port, args.concurrency, args.calls, extra[name], bare)}
                row["load"] = round(os.getloadavg()[0], 1)
                rows.append(row)
                print(json.dumps(row), flush=True)
    summary = {
        key: {v: statistics.median(r[key] for r in rows if r["variant"] == v) for v in ("A", "B")}
        for key in ("calls_per_s", "caller_cpu_us", "server_cpu_us")
    }
    for values in summary.values():
        values["B/A"] = round(values["B"] / values["A"], 3)
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
