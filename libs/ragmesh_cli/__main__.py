"""`ragmesh` — the command line of the local stack and its traces."""

from __future__ import annotations

import json
import subprocess
import sys
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
from ragmesh_devstack.triton_tracing import set_triton_tracing

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
    env = stack.dev_env(StackSettings())
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
    paths: Annotated[
        list[Path], typer.Argument(help="Files and folders: .md, .html/.htm, .pdf, .txt (others skipped, and named).")
    ],
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
    """Starts the local stack (Kafka, Jaeger, Triton, the five services, the supervisor)."""
    settings = StackSettings()
    try:
        keys = stack.up(settings)
    except stack.StartFailed as error:
        typer.echo(f"ragmesh: start failed: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo("ragmesh is up.")
    typer.echo(f"  gateway        {keys['GATEWAY_ADDR']} (gRPC, reflection on)")
    typer.echo(f"  jaeger         {keys['JAEGER_QUERY_URL']}/api/traces/<trace id>")
    typer.echo(f"  dev API key    {keys['RAGMESH_API_KEY']} (tenant 'default')")
    typer.echo(f"  env file       {settings.run_dir / 'dev.env'}; logs in {settings.run_dir / 'logs'}/")


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


@app.command("triton-tracing")
def triton_tracing(
    state: Annotated[str, typer.Argument(help="on or off")],
    rate: Annotated[int, typer.Option("--rate", help="Trace one request in every RATE.")] = 1,
) -> None:
    """Turns Triton's own spans (queue, compute) on or off without a restart. Leave them off under
    sustained load: tritonserver 2.51 crashes under traced load (docs/sre-guide.md)."""
    if state not in ("on", "off"):
        raise typer.BadParameter("say on or off")
    applied = set_triton_tracing(StackSettings().triton_http_port, state == "on", rate)
    typer.echo(f"triton tracing: level {applied.get('trace_level')}, rate {applied.get('trace_rate')}")


@app.command()
def bench(quick: Annotated[bool, typer.Option("--quick", help="Small counts: checks the harness.")] = False) -> None:
    """Runs the benchmarks (`python -m bench.run`, a program of the repository, not a library this
    command imports) and writes docs/benchmarks/."""
    settings = StackSettings()
    command = [sys.executable, "-m", "bench.run", *(["--quick"] if quick else [])]
    raise typer.Exit(subprocess.run(command, cwd=settings.root, check=False).returncode)


if __name__ == "__main__":
    app(prog_name="ragmesh")
