"""ragmesh Python SDK: sync and async clients of the public GatewayService with typed results,
deadlines on every call, and retries on UNAVAILABLE.

    from ragmesh.client import RagmeshClient
    with RagmeshClient("127.0.0.1:50051", api_key="rmk_...") as client:
        client.submit_document("doc-1", "pass is a null operation.", title="Pass")
        answer = client.ask("What does pass do?")
        print(answer.text, [c.document_id for c in answer.citations])
        for hit in client.search("pass statement", top_k=5).hits:   # chunks only, for your own LLM
            print(hit.score, hit.document_id, hit.text)
"""

from ragmesh.client.async_client import AsyncRagmeshClient
from ragmesh.client.sync_client import RagmeshClient
from ragmesh.client.types import (
    Answer,
    AnswerPiece,
    Citation,
    DocumentStatus,
    RagmeshError,
    SearchHit,
    SearchResults,
    Submitted,
    Usage,
)

__all__ = [
    "Answer",
    "AnswerPiece",
    "AsyncRagmeshClient",
    "Citation",
    "DocumentStatus",
    "RagmeshClient",
    "RagmeshError",
    "SearchHit",
    "SearchResults",
    "Submitted",
    "Usage",
]
