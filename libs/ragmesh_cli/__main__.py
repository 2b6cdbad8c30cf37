"""`ragmesh` — the command line of the local stack and its traces."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ragmesh.client import RagmeshClient
from ragmesh_cli import documents
from ragmesh_cli.waterfall import print_waterfall
from ragmesh_devstack import stack
from ragmesh_devstack.jaeger import JaegerQuery
from ragmesh_devstack.settings import StackSettings

app = typer.Typer(help="ragmesh: run the local stack and read its traces.", no_args_is_help=True)


def _jaeger(settings: StackSettings, url: str | None) -> JaegerQuery:
    return JaegerQuery(url or f"http://127.0.0.1:{settings.jaeger_query_port}")


@app.command()
def trace(
    trace_id: Annotated[str, typer.Argument(help="The trace id (32 hex digits) from a response.")] = "",
    last: Annotated[bool, typer.Option("--last", help="Show the most recent gateway trace.")] = False,
    svg: Annotated[Path | None, typer.Option("--svg", help="Also write the waterfall as an SVG picture.")] = None,
    jaeger_url: Annotated[str | None, typer.Option("--jaeger-url", help="Jaeger query API base URL.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the spans as JSON.")] = False,
) -> None:
    """Draws a trace from Jaeger as a waterfall (service, operation, offset, duration, errors in red)."""
    query = _jaeger(StackSettings(), jaeger_url)
    if last:
        trace_id = query.last_trace_id("gateway") or ""
        if not trace_id:
            raise typer.BadParameter("no gateway trace found in Jaeger yet")
    if not trace_id:
        raise typer.BadParameter("give a trace id or --last")
    found = query.get_trace(trace_id)
    if found is None:
        typer.echo(f"trace {trace_id} not found in Jaeger", err=True)
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps([span.__dict__ for span in found.spans], default=str, indent=2))
        return
    console = Console(record=svg is not None, width=160)
    print_waterfall(found, console)
    if svg is not None:
        console.save_svg(str(svg), title=f"ragmesh trace {trace_id}")
        typer.echo(f"wrote {svg}")


def _client(gateway: str | None, api_key: str | None) -> RagmeshClient:
    """Connection from the options, else from .run/dev.env written by `ragmesh up`."""
    env_file = StackSettings().run_dir / "dev.env"
    env = (
        dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
        if env_file.exists()
        else {}
    )
    address = gateway or env.get("GATEWAY_ADDR")
    key = api_key or env.get("RAGMESH_API_KEY")
    if not address or not key:
        raise typer.BadParameter("give --gateway and --api-key (or start the local stack with `ragmesh up`)")
    return RagmeshClient(address, key)


GatewayOption = Annotated[str | None, typer.Option("--gateway", help="host:port of the gateway.")]
KeyOption = Annotated[str | None, typer.Option("--api-key", envvar="RAGMESH_API_KEY", help="API key.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders of text to index.")],
    gateway: GatewayOption = None,
    api_key: KeyOption = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait until every document is indexed.")] = True,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for indexing.")] = 300.0,
    as_json: JsonOption = False,
) -> None:
    """Submits files (through the gateway to Kafka) and shows progress until they are indexed."""
    with _client(gateway, api_key) as client:
        raise typer.Exit(documents.ingest(client, paths, wait, timeout, as_json))


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    gateway: GatewayOption = None,
    api_key: KeyOption = None,
    top_k: Annotated[int, typer.Option(help="Chunks to retrieve (0: server default).")] = 0,
    as_json: JsonOption = False,
) -> None:
    """Streams the answer, then its citations."""
    with _client(gateway, api_key) as client:
        raise typer.Exit(documents.ask(client, question, top_k, as_json))


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="The query (a question or keywords).")],
    gateway: GatewayOption = None,
    api_key: KeyOption = None,
    top_k: Annotated[int, typer.Option(help="Chunks to return (0: server default).")] = 0,
    mode: Annotated[str, typer.Option(help="dense, hybrid, or empty for the server default (hybrid).")] = "",
    as_json: JsonOption = False,
) -> None:
    """Lists the best chunks (score, document, text) without generating an answer."""
    with _client(gateway, api_key) as client:
        raise typer.Exit(documents.search(client, query, top_k, mode, as_json))


@app.command()
def up() -> None:
    """Starts the local stack (Kafka, Jaeger, Triton, the five services)."""
    keys = stack.up(StackSettings())
    typer.echo(f"up; gateway {keys['GATEWAY_ADDR']}, dev API key {keys['RAGMESH_API_KEY']}")


@app.command()
def down() -> None:
    """Stops what `up` started."""
    stopped = stack.down(StackSettings())
    typer.echo("stopped: " + (", ".join(stopped) or "nothing"))


@app.command()
def status(as_json: JsonOption = False) -> None:
    """Health of each component."""
    report = stack.status(StackSettings())
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        for name, state in report.items():
            typer.echo(f"{name:<10} {state}")
    if not all(state.endswith("ready") and "NOT" not in state for state in report.values()):
        raise typer.Exit(3)


@app.command()
def bench(quick: Annotated[bool, typer.Option("--quick", help="Small counts: checks the harness.")] = False) -> None:
    """Runs the benchmarks against the running stack and writes docs/benchmarks/."""
    import sys

    from bench import run as bench_run

    sys.argv = ["bench", *(["--quick"] if quick else [])]
    raise typer.Exit(bench_run.main())


if __name__ == "__main__":
    app(prog_name="ragmesh")
