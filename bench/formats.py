"""Documents as users hold them through the whole ingestion path (gateway -> Kafka -> indexer:
parse, chunk, embed, upsert): the same reference topics sent as plain text, markdown, HTML (with
navigation boilerplate) and PDF (pages of 45 lines), documents/s and PDF pages/s to searchable; and
the parse-and-chunk step alone, in process, per format.

    python -m bench.formats [--port-shift N] [--copies N]   # its own stack instance (.run/bench-formats)
"""

from __future__ import annotations

import argparse
import html
import json
import shutil
import textwrap
import time
import uuid
from typing import Any

import grpc

from bench.corpus import topic_documents
from ragmesh.common.v1 import types_pb2
from ragmesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ragmesh_devstack import stack
from ragmesh_devstack.sample_documents import pdf_bytes
from ragmesh_devstack.settings import StackSettings
from ragmesh_kit.domain import UPSERT, DocumentCommand
from ragmesh_kit.tokens import TokenCounter
from services.indexer.adapters.parsers import document_parsers
from services.indexer.app.chunker import Chunker, ChunkingPolicy
from services.indexer.app.document_chunks import DocumentChunker

TENANT_KEY = "RAGMESH_API_KEY_TENANT_B"
LINES_PER_PAGE = 45
NAV = "<nav><ul><li><a href='/'>Home</a></li><li><a href='/docs'>Docs</a></li></ul></nav>"


def _paragraphs(text: str) -> list[str]:
    return [" ".join(block.split()) for block in text.split("\n\n") if block.strip()]


def as_formats(name: str, text: str) -> dict[str, tuple[bytes, str, int]]:
    """(content, content type, pages) of one topic in each format; the words are the same."""
    paragraphs = _paragraphs(text)
    markdown = f"# {name}\n\n" + "\n\n".join(paragraphs)
    page = f"<html><head><title>{name}</title></head><body>{NAV}<h1>{html.escape(name)}</h1>"
    page += "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs) + "<footer>(c)</footer></body></html>"
    lines: list[tuple[float, str]] = [(16.0, name)]
    for paragraph in paragraphs:
        lines += [(10.0, line) for line in textwrap.wrap(paragraph, 95)] + [(10.0, "")]
    pages = [lines[start : start + LINES_PER_PAGE] for start in range(0, len(lines), LINES_PER_PAGE)]
    return {
        "text/plain": (text.encode(), "text/plain", 0),
        "text/markdown": (markdown.encode(), "text/markdown", 0),
        "text/html": (page.encode(), "text/html", 0),
        "application/pdf": (pdf_bytes(pages, title=name), "application/pdf", len(pages)),
    }


def corpus() -> dict[str, dict[str, tuple[bytes, str, int]]]:
    """Per format: document id -> (content, type, pages)."""
    out: dict[str, dict[str, tuple[bytes, str, int]]] = {}
    for name, text in topic_documents().items():
        for media, document in as_formats(name, text).items():
            out.setdefault(media, {})[name] = document
    return out


def parse_rates(documents: dict[str, dict[str, tuple[bytes, str, int]]]) -> dict[str, dict[str, float]]:
    """Parse and chunk in process, one core: documents/s (and pages/s for PDF) per format."""
    chunker = DocumentChunker(Chunker(TokenCounter(), ChunkingPolicy(200, 40)), document_parsers())
    rates: dict[str, dict[str, float]] = {}
    for media, items in documents.items():
        started = time.perf_counter()
        chunks = sum(
            len(chunker(DocumentCommand(UPSERT, "t", name, 1, content=body, content_type=media)).chunks)
            for name, (body, _, _) in items.items()
        )
        seconds = time.perf_counter() - started
        pages = sum(pages for _, _, pages in items.values())
        rates[media] = {"documents_per_s": round(len(items) / seconds, 1), "chunks": chunks}
        if pages:
            rates[media]["pages_per_s"] = round(pages / seconds, 1)
    return rates


def run(settings: StackSettings, env: dict[str, str], copies: int = 1, timeout: float = 900) -> dict[str, Any]:
    """Each format in turn through the gateway to indexed: documents/s, chunks/s, PDF pages/s."""
    documents = corpus()
    auth = ((("x-api-key", env[TENANT_KEY])),)
    results: dict[str, Any] = {"parse_in_process": parse_rates(documents), "through_the_stack": {}}
    with grpc.insecure_channel(env["GATEWAY_ADDR"]) as channel:
        gateway = gateway_pb2_grpc.GatewayServiceStub(channel)
        for media, items in documents.items():
            run_id = uuid.uuid4().hex[:6]
            started = time.perf_counter()
            versions: dict[str, int] = {}
            for copy in range(copies):
                for name, (body, content_type, _) in items.items():
                    document_id = f"fmt-{run_id}-{copy}-{name}"
                    request = gateway_pb2.SubmitDocumentRequest(
                        document_id=document_id, title=name, content=body, content_type=content_type
                    )
                    versions[document_id] = gateway.SubmitDocument(request, metadata=auth, timeout=30).version
            pending, chunks = dict(versions), 0
            while pending and time.perf_counter() - started < timeout:
                for document_id in list(pending):
                    status = gateway.GetDocumentStatus(
                        gateway_pb2.GetDocumentStatusRequest(document_id=document_id), metadata=auth, timeout=10
                    ).status
                    if status.state in (types_pb2.DOCUMENT_STATE_INDEXED, types_pb2.DOCUMENT_STATE_FAILED):
                        chunks += status.chunk_count
                        del pending[document_id]
                time.sleep(0.2)
            seconds = time.perf_counter() - started
            pages = copies * sum(pages for _, _, pages in items.values())
            row = {
                "documents": len(versions),
                "not_indexed": len(pending),
                "chunks": chunks,
                "seconds_to_searchable": round(seconds, 2),
                "documents_per_s": round(len(versions) / seconds, 2),
                "chunks_per_s": round(chunks / seconds, 1),
            }
            if pages:
                row.update(pages=pages, pages_per_s=round(pages / seconds, 2))
            results["through_the_stack"][media] = row
            print(f"bench.formats: {media} {row}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--port-shift", type=int, default=5000)
    parser.add_argument("--copies", type=int, default=1)
    args = parser.parse_args()
    settings = StackSettings(
        instance="bench-formats",
        triton_tracing=False,
        **{
            name: field.default + args.port_shift
            for name, field in StackSettings.model_fields.items()
            if name.endswith("_port") and isinstance(field.default, int)
        },
    )
    stack.down(settings)
    shutil.rmtree(settings.run_dir / "data", ignore_errors=True)
    stack.up(settings)
    try:
        print(json.dumps(run(settings, stack.dev_env(settings), args.copies), indent=2))
    finally:
        stack.down(settings)


if __name__ == "__main__":
    main()
