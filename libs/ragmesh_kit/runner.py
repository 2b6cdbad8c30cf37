"""The common start of every service process: logging, tracing, then the service's own wiring."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from opentelemetry.sdk.trace import TracerProvider

from ragmesh_kit.logs import configure_logging
from ragmesh_kit.server import GrpcService, serve
from ragmesh_kit.settings import ServiceSettings
from ragmesh_kit.telemetry import create_tracer_provider


def run_service(settings: ServiceSettings, build: Callable[[TracerProvider], Awaitable[GrpcService]]) -> None:
    """Builds the service inside the event loop (clients need a running loop) and serves it."""
    configure_logging(settings.service_name, settings.log_level, settings.redact_logs)

    async def main() -> None:
        provider = create_tracer_provider(settings.service_name, settings.otlp_endpoint)
        await serve(await build(provider))

    asyncio.run(main())
