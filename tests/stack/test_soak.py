"""Soak (opt-in: `make soak`, CI skips it): a bounded mixed load of questions and ingestion for
RAGMESH_SOAK_SECONDS (default 600) against the real stack; no errors (quota refusals are waited
out, as a client should, and counted), and the memory of every process stays flat. Writes the
RSS of each component at start and end to .run/<instance>/soak.json."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from pydoc_data.topics import topics

import grpc
import pytest

from ragmesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ragmesh_devstack.processes import ProcessTable

# Its own time limit: the suite-wide 600 s would cut a 10-minute soak short.
pytestmark = [pytest.mark.soak, pytest.mark.timeout(3600)]
COMPONENTS = ("kafka", "jaeger", "triton", "retriever", "embedder", "generator", "gateway", "indexer")


def group_rss_mb(leader: int) -> float:
    """Resident memory of a component: its process group (Triton's model stubs included)."""
    total_kb = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != leader:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except (OSError, ProcessLookupError):
            continue
    return total_kb / 1024


def snapshot(table: ProcessTable) -> dict[str, float]:
    return {name: round(group_rss_mb(pid), 1) for name in COMPONENTS if (pid := table.pid(name)) is not None}


def test_mixed_load_keeps_memory_flat_and_errors_at_zero(running_stack) -> None:
    seconds = float(os.environ.get("RAGMESH_SOAK_SECONDS", "600"))
    table = ProcessTable(running_stack.settings.run_dir)
    metadata = (("x-api-key", running_stack.api_key),)
    names = sorted(topics)
    questions = [f"What does the {name} statement do?" for name in names]
    errors: list[str] = []
    counts = {"questions": 0, "documents": 0, "throttled": 0}

    async def load(duration: float) -> None:
        async with grpc.aio.insecure_channel(running_stack.address("gateway")) as channel:
            stub = gateway_pb2_grpc.GatewayServiceStub(channel)
            end = time.monotonic() + duration

            async def asker(offset: int) -> None:
                index = offset
                while time.monotonic() < end:
                    try:
                        await stub.Ask(
                            gateway_pb2.AskRequest(
                                question=questions[index % len(questions)], bypass_cache=index % 3 == 0
                            ),
                            metadata=metadata,
                            timeout=30,
                        )
                        counts["questions"] += 1
                    except grpc.aio.AioRpcError as error:
                        if error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
                            # The tenant's quota at work: a well-behaved client waits and goes on.
                            counts["throttled"] += 1
                            await asyncio.sleep(1.0)
                        else:
                            errors.append(f"Ask {error.code().name}: {error.details()}")
                    index += 4

            async def submitter() -> None:
                index = 0
                while time.monotonic() < end:
                    name = names[index % len(names)]
                    try:
                        await stub.SubmitDocument(
                            gateway_pb2.SubmitDocumentRequest(
                                document_id=f"soak-{name}", title=name, text=topics[name]
                            ),
                            metadata=metadata,
                            timeout=30,
                        )
                        counts["documents"] += 1
                    except grpc.aio.AioRpcError as error:
                        errors.append(f"Submit {error.code().name}: {error.details()}")
                    index += 1
                    await asyncio.sleep(0.5)

            await asyncio.gather(*(asker(i) for i in range(4)), submitter())

    asyncio.run(load(min(60.0, seconds / 5)))  # warm-up: caches, pools, allocator arenas
    samples: list[dict[str, float]] = [snapshot(table)]
    for _ in range(10):
        asyncio.run(load(seconds / 10))
        samples.append(snapshot(table))
    start, middle, end = samples[0], samples[5], samples[-1]
    report = {
        "seconds": seconds,
        "counts": counts,
        "errors": len(errors),
        "rss_mb_start": start,
        "rss_mb_middle": middle,
        "rss_mb_end": end,
        "rss_mb_samples": samples,
    }
    (running_stack.settings.run_dir / "soak.json").write_text(json.dumps(report, indent=2))
    print(json.dumps({key: value for key, value in report.items() if key != "rss_mb_samples"}, indent=2))
    assert not errors, errors[:5]
    assert counts["questions"] > 0 and counts["documents"] > 0
    # Flat: no growth over the second half of the run (allocators settle in the first half).
    for name, halfway in middle.items():
        after = end.get(name, 0.0)
        assert after <= halfway * 1.1 + 48, f"{name} grew from {halfway} MB (halfway) to {after} MB; samples {samples}"
