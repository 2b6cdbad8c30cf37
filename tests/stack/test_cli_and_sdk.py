"""The CLI and the SDK against the real local stack: what a newcomer and an internal service do."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from pydoc_data.topics import topics

import grpc
import pytest

from ragmesh.client import Answer, AnswerPiece, AsyncRagmeshClient, DocumentStatus, RagmeshClient, RagmeshError
from tests.eventually import eventually, eventually_async

ROOT = Path(__file__).resolve().parents[2]


def _cli(running_stack, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        str(ROOT / "bin/ragmesh"),
        *args,
        "--gateway",
        running_stack.address("gateway"),
        "--api-key",
        running_stack.api_key,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=240, check=False)


def test_cli_ingests_a_folder_then_answers_from_it(running_stack, tmp_path: Path) -> None:
    folder = tmp_path / "handbook"
    folder.mkdir()
    (folder / "for.txt").write_text(topics["for"])
    (folder / "nested").mkdir()
    (folder / "nested" / "import.md").write_text(topics["import"])
    (folder / "logo.png").write_bytes(b"\x89PNG\r\n")
    (folder / "empty.md").write_text("")
    ingested = _cli(running_stack, "ingest", str(folder), "--json")
    assert ingested.returncode == 0, ingested.stderr
    output = json.loads(ingested.stdout)
    results = output["documents"]
    assert set(results) == {"handbook/for.txt", "handbook/nested/import.md"}
    assert results["handbook/nested/import.md"]["content_type"] == "text/markdown"
    skipped = {Path(file).name: why for file, why in output["skipped"].items()}
    assert skipped == {"logo.png": skipped["logo.png"], "empty.md": "empty file"}
    assert "not a supported type" in skipped["logo.png"]
    assert all(result["state"] == "indexed" and result["chunks"] >= 1 for result in results.values())

    asked = _cli(running_stack, "ask", "What does the for statement iterate over?", "--json")
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert "handbook/for.txt" in [citation["document_id"] for citation in answer["citations"]]
    assert len(answer["trace_id"]) == 32

    streamed = _cli(running_stack, "ask", "What does the for statement iterate over?")
    assert streamed.returncode == 0 and "handbook/for.txt" in streamed.stdout


def test_sync_sdk_submits_asks_streams_and_reports_status(running_stack) -> None:
    with RagmeshClient(running_stack.address("gateway"), running_stack.api_key) as client:
        submitted = client.submit_document("sdk-yield", topics["yield"], title="yield", metadata={"lang": "en"})
        assert submitted.version > 0

        def indexed() -> DocumentStatus | None:
            status = client.document_status("sdk-yield")
            return status if status.state == "indexed" and status.version == submitted.version else None

        status = eventually(indexed, "sdk-yield indexed", timeout=60, interval=0.5)
        assert status.chunk_count >= 1
        answer = client.ask("What does a yield expression do in a function?", bypass_cache=True)
        assert "sdk-yield" in [citation.document_id for citation in answer.citations]
        events = list(client.ask_stream("What does a yield expression do in a function?"))
        assert isinstance(events[-1], Answer) and all(isinstance(e, AnswerPiece) for e in events[:-1])


def test_sdk_errors_are_typed_with_status_codes(running_stack) -> None:
    with RagmeshClient(running_stack.address("gateway"), "wrong-key") as client, pytest.raises(RagmeshError) as err:
        client.ask("anything")
    assert err.value.code == grpc.StatusCode.UNAUTHENTICATED
    with RagmeshClient(running_stack.address("gateway"), running_stack.api_key) as client:
        with pytest.raises(RagmeshError) as empty:
            client.ask("")
    assert empty.value.code == grpc.StatusCode.INVALID_ARGUMENT


def test_async_sdk_asks(running_stack) -> None:
    async def scenario() -> Answer:
        async with AsyncRagmeshClient(running_stack.address("gateway"), running_stack.api_key) as client:
            await client.submit_document("sdk-async-if", topics["if"], title="if")

            async def indexed() -> bool:
                return (await client.document_status("sdk-async-if")).state == "indexed"

            await eventually_async(indexed, "sdk-async-if indexed", timeout=60, interval=0.5)
            pieces = [event async for event in client.ask_stream("What does the if statement select?")]
            assert isinstance(pieces[-1], Answer)
            return await client.ask("What does the if statement select?")

    answer = asyncio.run(scenario())
    assert "sdk-async-if" in [citation.document_id for citation in answer.citations]
