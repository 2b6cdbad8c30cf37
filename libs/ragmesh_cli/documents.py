"""`ragmesh ingest` and `ragmesh ask`, through the public gateway with the SDK."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ragmesh.client import Answer, AnswerPiece, RagmeshClient, RagmeshError

TEXT_SUFFIXES = {".txt", ".md", ".rst", ".text", ".html", ".py", ".json", ".csv"}


def collect_files(paths: list[Path]) -> list[tuple[str, Path]]:
    """(document id, file) for every text file; ids are paths relative to the given folder."""
    found: list[tuple[str, Path]] = []
    for path in paths:
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES):
                found.append((f"{path.name}/{file.relative_to(path).as_posix()}", file))
        elif path.is_file():
            found.append((path.name, path))
        else:
            raise typer.BadParameter(f"{path} is neither a file nor a folder")
    return found


def ingest(client: RagmeshClient, paths: list[Path], wait: bool, timeout: float, as_json: bool) -> int:
    files = collect_files(paths)
    if not files:
        raise typer.BadParameter("no text files found")
    console = Console(stderr=True)
    submitted: dict[str, int] = {}
    results: dict[str, dict[str, object]] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=as_json,
    ) as progress:
        sending = progress.add_task("submitted", total=len(files))
        for document_id, file in files:
            reply = client.submit_document(document_id, file.read_text(errors="replace"), title=file.stem)
            submitted[document_id] = reply.version
            results[document_id] = {"version": reply.version, "trace_id": reply.trace_id, "state": "accepted"}
            progress.advance(sending)
        if wait:
            indexing = progress.add_task("indexed", total=len(files))
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
    failed = [doc for doc, result in results.items() if result["state"] != "indexed" and wait]
    if as_json:
        typer.echo(json.dumps(results, indent=2))
    else:
        indexed = sum(1 for result in results.values() if result["state"] == "indexed")
        console.print(f"{len(files)} documents submitted" + (f", {indexed} indexed" if wait else ""))
        for document_id in failed:
            console.print(
                f"[red]{document_id}: {results[document_id]['state']} {results[document_id].get('reason', '')}"
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
        console.print(f"  [{citation.label}] {citation.document_id} ({citation.chunk_id}, score {citation.score:.3f})")
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
