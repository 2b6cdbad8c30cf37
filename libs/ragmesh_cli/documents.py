"""`ragmesh ingest` and `ragmesh ask`, through the public gateway with the SDK."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ragmesh.client import Answer, AnswerPiece, RagmeshClient, RagmeshError, Submitted
from ragmesh.client.requests import content_type_for

# Text files the gateway takes as plain text besides CONTENT_TYPES' own (source code, data).
PLAIN_SUFFIXES = {".py", ".json", ".csv"}


@dataclass(frozen=True)
class Found:
    """What ``collect_files`` found: files to send (document id, file, content type) and files
    skipped with the reason."""

    files: list[tuple[str, Path, str]]
    skipped: list[tuple[Path, str]]


def _kind(file: Path) -> tuple[str | None, str]:
    """(content type, "") for a file to send, else (None, why it is skipped)."""
    if any(part.startswith(".") for part in file.parts[-1:]):
        return None, "hidden file"
    content_type = content_type_for(file) or ("text/plain" if file.suffix.lower() in PLAIN_SUFFIXES else None)
    if content_type is None:
        return None, f"{file.suffix or 'no extension'} is not a supported type (.md, .html, .htm, .pdf, .txt)"
    if file.stat().st_size == 0:
        return None, "empty file"
    return content_type, ""


def collect_files(paths: list[Path]) -> Found:
    """Files to send with their types (ids are paths relative to the given folder's parent), and the
    files skipped with why; hidden folders (.git) are not entered."""
    found = Found([], [])
    for path in paths:
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                relative = file.relative_to(path)
                if any(part.startswith(".") for part in relative.parts[:-1]):
                    continue
                content_type, why = _kind(file)
                if content_type is None:
                    found.skipped.append((file, why))
                else:
                    found.files.append((f"{path.name}/{relative.as_posix()}", file, content_type))
        elif path.is_file():
            content_type, why = _kind(path)
            if content_type is None:
                found.skipped.append((path, why))
            else:
                found.files.append((path.name, path, content_type))
        else:
            raise typer.BadParameter(f"{path} is neither a file nor a folder")
    return found


def _submit(client: RagmeshClient, document_id: str, file: Path, content_type: str) -> Submitted:
    if content_type_for(file) is not None:
        return client.submit_file(file, document_id=document_id)
    return client.submit_document(document_id, file.read_text(errors="replace"), title=file.stem)


def _wait(
    client: RagmeshClient, submitted: dict[str, int], results: dict[str, dict[str, object]], progress: Progress,
    timeout: float,
) -> None:  # fmt: skip
    indexing = progress.add_task("indexed", total=len(submitted))
    pending = dict(submitted)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for document_id, version in list(pending.items()):
            status = client.document_status(document_id)
            if status.version >= version and status.state in ("indexed", "failed"):
                results[document_id].update(state=status.state, chunks=status.chunk_count, reason=status.reason)
                del pending[document_id]
                progress.advance(indexing)
        if pending:
            time.sleep(0.5)


def ingest(client: RagmeshClient, paths: list[Path], wait: bool, timeout: float, as_json: bool) -> int:
    found = collect_files(paths)
    console = Console(stderr=True)
    for file, why in found.skipped:
        console.print(f"[yellow]skipped {file}: {why}", highlight=False)
    if not found.files:
        raise typer.BadParameter("no files to send (.md, .html, .htm, .pdf, .txt)")
    submitted: dict[str, int] = {}
    results: dict[str, dict[str, object]] = {}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, disable=as_json) as progress:
        sending = progress.add_task("submitted", total=len(found.files))
        for document_id, file, content_type in found.files:
            try:
                reply = _submit(client, document_id, file, content_type)
            except RagmeshError as error:  # refused (too large, not its type): the others still go
                results[document_id] = {"state": "refused", "reason": error.details, "content_type": content_type}
            else:
                submitted[document_id] = reply.version
                results[document_id] = {"version": reply.version, "trace_id": reply.trace_id, "state": "accepted"}
                results[document_id]["content_type"] = content_type
            progress.advance(sending)
        if wait and submitted:
            _wait(client, submitted, results, progress, timeout)
    failed = [
        doc
        for doc, result in results.items()
        if result["state"] == "refused" or (wait and result["state"] != "indexed")
    ]
    if as_json:
        skipped = {str(file): why for file, why in found.skipped}
        typer.echo(json.dumps({"documents": results, "skipped": skipped}, indent=2))
    else:
        indexed = sum(1 for result in results.values() if result["state"] == "indexed")
        console.print(
            f"{len(submitted)} documents submitted" + (f", {indexed} indexed" if wait else "")
            + (f", {len(found.skipped)} files skipped" if found.skipped else "")
        )  # fmt: skip
        for document_id in failed:
            console.print(
                f"[red]{document_id}: {results[document_id]['state']} {results[document_id].get('reason', '')}",
                highlight=False,
            )
    return 1 if failed else 0


def ask(client: RagmeshClient, question: str, top_k: int, as_json: bool) -> int:
    console = Console()
    final: Answer | None = None
    try:
        for event in client.ask_stream(question, top_k=top_k):
            if isinstance(event, AnswerPiece):
                if not as_json:
                    console.print(event.text, end="", soft_wrap=True, highlight=False)
            else:
                final = event
    except RagmeshError as error:
        typer.echo(f"ragmesh: {error}", err=True)
        return 2
    if final is None:
        typer.echo("ragmesh: the answer stream ended without a final message", err=True)
        return 1
    if as_json:
        typer.echo(json.dumps(asdict(final), indent=2))
        return 0
    console.print()
    for citation in final.citations:
        where = " · ".join(
            part for part in (citation.heading, f"page {citation.page}" if citation.page else "") if part
        )
        console.print(
            f"  [{citation.label}] {citation.document_id}" + (f" — {where}" if where else "")
            + f" ({citation.chunk_id}, score {citation.score:.3f})",
            highlight=False,
        )  # fmt: skip
    console.print(
        f"  trace {final.trace_id} · tokens {final.usage.prompt_tokens}+{final.usage.completion_tokens}", style="dim"
    )
    return 0


def search(client: RagmeshClient, query: str, top_k: int, mode: str, as_json: bool) -> int:
    try:
        results = client.search(query, top_k=top_k, mode=mode)
    except (RagmeshError, ValueError) as error:
        typer.echo(f"ragmesh: {error}", err=True)
        return 2
    if as_json:
        typer.echo(json.dumps(asdict(results), indent=2))
        return 0
    console = Console()
    for rank, hit in enumerate(results.hits, 1):
        console.print(f"{rank:>2}. {hit.score:.3f}  {hit.document_id} ({hit.chunk_id})  {hit.title}", highlight=False)
        console.print("    " + " ".join(hit.text.split())[:200], style="dim", highlight=False)
    console.print(f"  {len(results.hits)} chunks · trace {results.trace_id}", style="dim")
    return 0
