"""One decode loop over every active request (continuous batching) on llama.cpp's low-level API.

Each request holds one sequence id; one ``llama_batch`` per step carries the next token of every
decoding sequence plus prompt chunks of the ones joining. Requests join between steps, and a finished
or cancelled one leaves at once and frees its KV cells (``llama_memory_seq_rm``). Each sequence has
its own KV stream (``kv_unified`` off): its cells stay in the order they would have alone, so a
request's greedy output does not depend on what else is in the batch (in a unified cache the cells
of concurrent requests interleave and sums round differently), and attention does not span other
requests' cells. A cacheable prompt prefix (the fixed instruction) is decoded once into sequence 0
and copied into each request's stream (``llama_memory_seq_cp``, a memory copy instead of a prefill).
The shape follows llama.cpp's examples/parallel.
"""

from __future__ import annotations

import codecs
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ragmesh_llm.llama_model import LlamaModel
from ragmesh_llm.options import SamplingOptions, StopScanner
from ragmesh_llm.sampling import make_sampler

_log = logging.getLogger(__name__)
PREFIX_SEQ = 0


class PromptTooLong(ValueError):
    """The prompt (plus at least one generated token) does not fit one sequence's context."""


@dataclass(frozen=True)
class Finish:
    reason: str  # "stop" (end of generation or a stop string) or "length" (max_tokens, context)
    prompt_tokens: int
    completion_tokens: int


class Sink(Protocol):
    """Where one request's output goes; called from the decode thread."""

    def piece(self, text: str, finish: Finish | None) -> None:
        """A text delta ("" while a character or a stop string is incomplete); ``finish`` on the last."""
        ...

    def fail(self, message: str, cancelled: bool) -> None: ...

    def is_cancelled(self) -> bool: ...


@dataclass(frozen=True)
class EngineConfig:
    model_path: str
    max_sequences: int = 8  # concurrent requests; one KV sequence each (+1 for the shared prefix)
    context_length: int = 1024  # tokens per request: prompt + generated
    threads: int = 2
    batch_tokens: int = 512  # tokens per llama_decode call (decode tokens first, then prompt chunks)
    unified_kv: bool = False  # one KV buffer for all sequences (see the module docstring)


@dataclass
class _Active:
    seq_id: int
    pending: list[int]  # prompt tokens not yet decoded
    n_past: int
    options: SamplingOptions
    sink: Sink
    sampler: Any
    prompt_tokens: int
    scanner: StopScanner
    decoder: codecs.IncrementalDecoder = field(default_factory=lambda: codecs.getincrementaldecoder("utf-8")("replace"))
    generated: int = 0
    next_token: int | None = None
    logits_index: int = -1


@dataclass
class _Request:
    tokens: list[int]
    prefix_len: int
    options: SamplingOptions
    sink: Sink


class LlamaEngine:
    def __init__(self, config: EngineConfig) -> None:
        self.model = LlamaModel(config.model_path)
        ll = self._ll = self.model.ll
        self.config = config
        cparams = ll.llama_context_default_params()
        # Sequence 0 holds the shared prefix; every request may use a whole context_length beside it.
        cparams.n_ctx = config.context_length * (config.max_sequences + 1)
        cparams.n_batch = config.batch_tokens
        cparams.n_ubatch = config.batch_tokens
        cparams.n_seq_max = config.max_sequences + 1
        cparams.kv_unified = config.unified_kv
        cparams.n_threads = config.threads
        cparams.n_threads_batch = config.threads
        cparams.no_perf = True
        self._ctx = ll.llama_init_from_model(self.model.handle, cparams)
        if not self._ctx:
            raise RuntimeError("llama.cpp could not create a context")
        self._mem = ll.llama_get_memory(self._ctx)
        self._batch = ll.llama_batch_init(config.batch_tokens, 0, 1)
        self._prefix: list[int] = []
        self._free = list(range(config.max_sequences, 0, -1))
        self._active: list[_Active] = []
        self._waiting: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="llm-decode", daemon=True)
        self._thread.start()

    # ---------------------------------------------------------------- requests

    def submit(self, tokens: list[int], options: SamplingOptions, sink: Sink, prefix_len: int = 0) -> None:
        """Queues a request; its output goes to ``sink`` from the decode thread. ``tokens[:prefix_len]``
        may be shared with other requests through sequence 0's KV cells."""
        limit = self.config.context_length
        if not tokens:
            raise PromptTooLong("the prompt is empty")
        if len(tokens) >= limit:
            raise PromptTooLong(f"the prompt has {len(tokens)} tokens; this model takes at most {limit - 1}")
        if self._stopping.is_set():
            raise RuntimeError("the engine is stopping")
        self._waiting.put(_Request(list(tokens), prefix_len, options, sink))

    def active_count(self) -> int:
        return len(self._active)

    def close(self) -> None:
        self._stopping.set()
        self._waiting.put(None)
        self._thread.join(timeout=30)
        ll = self._ll
        ll.llama_batch_free(self._batch)
        ll.llama_free(self._ctx)
        self.model.free()

    # ---------------------------------------------------------------- the decode loop

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self._admit(block=not self._active)
                if self._stopping.is_set():
                    break
                self._drop_cancelled()
                if self._active:
                    self._step()
            except Exception as exc:  # noqa: BLE001 - fail the requests, keep serving
                _log.exception("decode step failed")
                for seq in list(self._active):
                    self._leave(seq)
                    _deliver(seq.sink.fail, f"generation failed: {exc}", False)
        for seq in list(self._active):
            self._leave(seq)
            _deliver(seq.sink.fail, "the model is shutting down", True)
        while True:
            try:
                request = self._waiting.get_nowait()
            except queue.Empty:
                break
            if request is not None:
                request.sink.fail("the model is shutting down", True)

    def _admit(self, block: bool) -> None:
        while self._free:
            try:
                request = self._waiting.get(timeout=0.5) if block else self._waiting.get_nowait()
            except queue.Empty:
                return
            if request is None:
                return
            block = False
            if request.sink.is_cancelled():
                request.sink.fail("cancelled before it started", True)
                continue
            self._join(request)

    def _join(self, request: _Request) -> None:
        ll = self._ll
        if request.prefix_len and request.tokens[: request.prefix_len] != self._prefix:
            self._set_prefix(request.tokens[: request.prefix_len])
        seq_id = self._free.pop()
        shared = len(self._prefix) if self._prefix and request.tokens[: len(self._prefix)] == self._prefix else 0
        shared = min(shared, len(request.tokens) - 1)  # the last prompt token is decoded for its logits
        ll.llama_memory_seq_rm(self._mem, seq_id, -1, -1)
        if shared:
            # Between streams only a whole sequence can be copied; drop what this prompt does not share.
            ll.llama_memory_seq_cp(self._mem, PREFIX_SEQ, seq_id, -1, -1)
            if shared < len(self._prefix):
                ll.llama_memory_seq_rm(self._mem, seq_id, shared, -1)
        self._active.append(
            _Active(
                seq_id=seq_id,
                pending=request.tokens[shared:],
                n_past=shared,
                options=request.options,
                sink=request.sink,
                sampler=make_sampler(ll, request.options),
                prompt_tokens=len(request.tokens),
                scanner=StopScanner(request.options.stop),
            )
        )

    def _set_prefix(self, tokens: list[int]) -> None:
        """Decodes a new shared prefix into sequence 0 (requests that copied the old one keep their
        cells: removing sequence 0 only takes its id off them)."""
        ll = self._ll
        ll.llama_memory_seq_rm(self._mem, PREFIX_SEQ, -1, -1)
        self._prefix = []
        for start in range(0, len(tokens), self.config.batch_tokens):
            chunk = tokens[start : start + self.config.batch_tokens]
            self._batch.n_tokens = 0
            for offset, token in enumerate(chunk):
                self._add(token, start + offset, PREFIX_SEQ, False)
            if ll.llama_decode(self._ctx, self._batch) != 0:
                ll.llama_memory_seq_rm(self._mem, PREFIX_SEQ, -1, -1)
                return
        self._prefix = list(tokens)

    def _add(self, token: int, pos: int, seq_id: int, logits: bool) -> int:
        batch = self._batch
        i: int = batch.n_tokens
        batch.token[i] = token
        batch.pos[i] = pos
        batch.n_seq_id[i] = 1
        batch.seq_id[i][0] = seq_id
        batch.logits[i] = logits
        batch.n_tokens = i + 1
        return i

    def _drop_cancelled(self) -> None:
        for seq in list(self._active):
            if seq.sink.is_cancelled():
                self._leave(seq)
                _deliver(seq.sink.fail, f"cancelled after {seq.generated} tokens", True)

    def _step(self) -> None:
        self._batch.n_tokens = 0
        budget = self.config.batch_tokens
        for seq in self._active:  # decoding sequences first: one token each
            seq.logits_index = -1
            if not seq.pending and seq.next_token is not None:
                seq.logits_index = self._add(seq.next_token, seq.n_past, seq.seq_id, True)
                seq.n_past += 1
                budget -= 1
        for seq in self._active:  # then prompt chunks, oldest first, within the batch budget
            if not seq.pending or budget <= 0:
                continue
            chunk, seq.pending = seq.pending[:budget], seq.pending[budget:]
            for offset, token in enumerate(chunk):
                last = not seq.pending and offset == len(chunk) - 1
                index = self._add(token, seq.n_past + offset, seq.seq_id, last)
                if last:
                    seq.logits_index = index
            seq.n_past += len(chunk)
            budget -= len(chunk)
        status = self._ll.llama_decode(self._ctx, self._batch)
        if status != 0:
            raise RuntimeError(f"llama_decode returned {status}")
        for seq in list(self._active):
            if seq.logits_index >= 0:
                self._sample(seq)

    def _sample(self, seq: _Active) -> None:
        ll = self._ll
        token = ll.llama_sampler_sample(seq.sampler, self._ctx, seq.logits_index)
        seq.generated += 1
        eog = ll.llama_vocab_is_eog(self.model.vocab, token) and not seq.options.ignore_eos
        text = "" if eog else seq.decoder.decode(self.model.piece(token))
        text = seq.scanner.feed(text)
        reason = ""
        if eog:
            reason = "stop"
        elif seq.scanner.stopped:
            reason = "stop"
        elif seq.generated >= seq.options.max_tokens or seq.n_past + 1 >= self.config.context_length:
            reason = "length"
        if not reason:
            seq.next_token = token
            seq.sink.piece(text, None)
            return
        if not seq.scanner.stopped:
            text += seq.scanner.feed(seq.decoder.decode(b"", True)) + seq.scanner.flush()
        self._leave(seq)
        _deliver(seq.sink.piece, text, Finish(reason, seq.prompt_tokens, seq.generated))

    def _leave(self, seq: _Active) -> None:
        """Frees the sequence's KV cells and id; callers tell the client after, so that a request
        sent right after this one's end always finds a free slot."""
        self._active.remove(seq)
        self._ll.llama_memory_seq_rm(self._mem, seq.seq_id, -1, -1)
        self._ll.llama_sampler_free(seq.sampler)
        self._free.append(seq.seq_id)


def _deliver(send: Callable[..., None], *args: object) -> None:
    try:
        send(*args)
    except Exception:  # noqa: BLE001 - a client that went away must not stop the loop
        _log.exception("could not deliver the end of a request")
