"""Fixtures for the chunk-store adapters.

``store`` runs each shared test twice: on the real Qdrant engine (qdrant-edge, in a temporary
directory) and on ``QdrantServerStore`` over qdrant-client's local mode (``location=":memory:"``).
Local mode is a brute-force Python imitation of a server: it exercises only the server adapter's
request building and parsing, never Qdrant itself, and it ignores payload indexes (it warns so).
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from qdrant_client import AsyncQdrantClient

from services.retriever.adapters.qdrant_edge_store import QdrantEdgeStore
from services.retriever.adapters.qdrant_server_store import QdrantServerStore
from tests.retriever.store_helpers import DIM


async def open_server_store() -> QdrantServerStore:
    store = QdrantServerStore(AsyncQdrantClient(location=":memory:"), "chunks", DIM)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Payload indexes have no effect")
        await store.ensure_collection()
    return store


@pytest_asyncio.fixture(params=["edge", "server"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    s: QdrantEdgeStore | QdrantServerStore
    if request.param == "edge":
        s = await QdrantEdgeStore.open(str(tmp_path / "shard"), DIM)
    else:
        s = await open_server_store()
    try:
        yield s
    finally:
        await s.close()
