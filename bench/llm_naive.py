"""The naive LLM baseline: FastAPI + llama-cpp-python's high-level ``Llama``, one request at a time
(a lock around the model), tokens streamed as NDJSON lines. Same GGUF, same threads, same prompts.
Run: python -m bench.llm_naive <gguf> <port>."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from typing import Any, cast

import uvicorn
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from pydantic import BaseModel


class GenerateBody(BaseModel):
    prompt: str
    max_tokens: int = 64


def create_app(gguf: str, threads: int = 2) -> FastAPI:
    from llama_cpp import Llama

    model = Llama(model_path=gguf, n_ctx=1024, n_threads=threads, n_threads_batch=threads, verbose=False)
    # Every stream runs to max_tokens, as in the batched runs (ignore_eos there).
    no_eos = {token: -1e9 for token in {model.token_eos(), *model.tokenize(b"<|im_end|>", special=True)}}
    lock = threading.Lock()
    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/generate")
    def generate(body: GenerateBody) -> StreamingResponse:
        def lines() -> Iterator[str]:
            with lock:
                model.reset()  # no prefix reuse between requests: the hand-rolled service's shape
                # stream=True: an iterator of chunks (the stubs type the call for both modes).
                chunks = model.create_completion(
                    body.prompt, max_tokens=body.max_tokens, temperature=0.0, stream=True, logit_bias=no_eos
                )
                for chunk in cast(Iterator[dict[str, Any]], chunks):
                    choice = chunk["choices"][0]
                    if choice["finish_reason"] and not choice["text"]:
                        continue  # the closing chunk carries no token: the client counts a line per token
                    yield json.dumps({"text": choice["text"]}) + "\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    return app


if __name__ == "__main__":
    uvicorn.run(create_app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
