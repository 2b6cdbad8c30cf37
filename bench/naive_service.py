"""The naive baseline: one FastAPI process built the way a team would hand-roll RAG — the model
called once per request (no batching), brute-force numpy search over every chunk, the same
extractive answer. Same model file, same data. Run: python -m bench.naive_service <models> <port>."""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

from bench.corpus import topic_documents
from bench.limits import embed_all, encoder
from bench.pipeline import chunk_documents, exact_top_k
from ragmesh_answering import extractive


class AskBody(BaseModel):
    question: str
    top_k: int = 5


def create_app(models_dir: Path) -> FastAPI:
    model = encoder(models_dir)
    chunks = chunk_documents(topic_documents())
    matrix = embed_all(model, [chunk.text for chunk in chunks])
    app = FastAPI()

    @app.post("/ask")
    def ask(body: AskBody) -> dict[str, object]:
        query = model.embed([body.question])[0]
        top = exact_top_k(matrix, query, body.top_k)
        context = "".join(
            f"<<<SOURCE {n}>>>\ntitle: {chunks[i].title}\ndocument: {chunks[i].document_id}\n{chunks[i].text}\n"
            "<<<END SOURCE>>>\n\n"
            for n, i in enumerate(top, start=1)
        )
        prompt = f"Answer from the sources.\n\n{context}<<<QUESTION>>>\n{body.question}\n<<<ANSWER>>>\n"
        return {"answer": extractive.answer(prompt), "documents": [chunks[i].document_id for i in top]}

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


if __name__ == "__main__":
    uvicorn.run(create_app(Path(sys.argv[1])), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
