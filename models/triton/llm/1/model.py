"""Triton Python model "llm": a GGUF instruct model on llama.cpp, continuous batching.

Decoupled; the tensor interface of Triton's vLLM backend:
  inputs  text_input (BYTES [1]), stream (BOOL [1]), sampling_parameters (BYTES [1], JSON: max_tokens,
          temperature, top_p, top_k, min_p, seed, stop, ignore_eos), exclude_input_in_output (BOOL [1]),
          return_num_input_tokens / return_num_output_tokens / return_finish_reason (BOOL [1])
  outputs text_output (BYTES), num_input_tokens, num_output_tokens (UINT32; output tokens of this
          response), finish_reason (BYTES: stop, length)

A text_input in the generator's source layout (<<<SOURCE n>>> ... <<<QUESTION>>>) is rendered as a
chat (ragmesh_llm.prompting) from the extractive selection's best sentences; any other text is the
raw prompt, as with vLLM. Every request joins one decode loop (ragmesh_llm.engine); cancellation is
checked before each decode step and ends the request with CANCELLED. Bad sampling_parameters and a
prompt longer than the context end with INVALID_ARG.
"""

from __future__ import annotations

import json
import queue
import threading
from typing import Any

import numpy as np
import triton_python_backend_utils as pb_utils

from ragmesh_answering import extractive
from ragmesh_llm.engine import EngineConfig, Finish, LlamaEngine, PromptTooLong
from ragmesh_llm.models import default_gguf
from ragmesh_llm.options import OptionsError, parse_options
from ragmesh_llm.prompting import DEFAULT_SYSTEM, Evidence, render
from ragmesh_models.triton_glue import config_parameters, error_response

FINAL = pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL


def _error(message: str, code_name: str) -> Any:
    if code_name == "INVALID_ARG":
        # The prefix tells ragmesh_kit.triton's stream reader this is INVALID_ARGUMENT (a stream reply
        # carries the message only).
        message = f"invalid argument: {message}"
    return error_response(message, code_name)


def _flag(request: Any, name: str) -> bool | None:
    tensor = pb_utils.get_input_tensor_by_name(request, name)
    if tensor is None or tensor.as_numpy().size == 0:
        return None
    return bool(tensor.as_numpy().reshape(-1)[0])


class _Outbox:
    """Sends responses from its own thread, in order: a send is a round trip to the Triton server,
    and the decode loop should not wait for it (llama_decode releases the GIL, so both overlap)."""

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[tuple[Any, Any, int] | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="llm-outbox", daemon=True)
        self.thread.start()

    def put(self, sender: Any, response: Any, flags: int) -> None:
        self.queue.put((sender, response, flags))

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            sender, response, flags = item
            try:
                sender.send(response, flags=flags)
            except Exception as exc:  # noqa: BLE001 - a request that is gone must not stop the others
                pb_utils.Logger.log_error(f"[llm] could not send a response: {exc!r}")

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=10)


class _Sink:
    """One request's responses; called from the decode thread."""

    def __init__(
        self, outbox: _Outbox, sender: Any, stream: bool, prefix: str, wants: dict[str, bool], prompt_tokens: int
    ) -> None:
        self.outbox = outbox
        self.sender, self.stream, self.prefix, self.wants = sender, stream, prefix, wants
        self.prompt_tokens = prompt_tokens
        self.text: list[str] = []
        self.unsent_tokens = 0

    def _response(self, text: str, tokens: int, reason: str) -> Any:
        tensors = [pb_utils.Tensor("text_output", np.array([text.encode("utf-8")], dtype=np.object_))]
        if self.wants["return_num_input_tokens"]:
            tensors.append(pb_utils.Tensor("num_input_tokens", np.array([self.prompt_tokens], dtype=np.uint32)))
        if self.wants["return_num_output_tokens"]:
            tensors.append(pb_utils.Tensor("num_output_tokens", np.array([tokens], dtype=np.uint32)))
        if self.wants["return_finish_reason"] and reason:
            tensors.append(pb_utils.Tensor("finish_reason", np.array([reason.encode()], dtype=np.object_)))
        return pb_utils.InferenceResponse(output_tensors=tensors)

    def piece(self, text: str, finish: Finish | None) -> None:
        self.unsent_tokens += 1
        if self.stream:
            if text or finish is not None:  # an empty delta (incomplete character) waits for the next
                flags = FINAL if finish is not None else 0
                response = self._response(text, self.unsent_tokens, finish.reason if finish else "")
                self.outbox.put(self.sender, response, flags)
                self.unsent_tokens = 0
            return
        self.text.append(text)
        if finish is not None:
            whole = self.prefix + "".join(self.text)
            self.outbox.put(self.sender, self._response(whole, finish.completion_tokens, finish.reason), FINAL)

    def fail(self, message: str, cancelled: bool) -> None:
        pb_utils.Logger.log_info(f"[llm] request ended: {message}")
        self.outbox.put(self.sender, _error(message, "CANCELLED" if cancelled else "INTERNAL"), FINAL)

    def is_cancelled(self) -> bool:
        return bool(self.sender.is_cancelled())


class TritonPythonModel:
    def initialize(self, args: dict[str, str]) -> None:
        self.logger = pb_utils.Logger
        config = json.loads(args["model_config"])
        if not pb_utils.using_decoupled_model_transaction_policy(config):
            raise pb_utils.TritonModelException("llm must be decoupled (model_transaction_policy)")
        params = config_parameters(config)
        try:
            path = params.get("gguf_path", "").strip() or default_gguf()
        except FileNotFoundError as exc:
            raise pb_utils.TritonModelException(str(exc)) from exc
        self.engine = LlamaEngine(
            EngineConfig(
                model_path=path,
                max_sequences=int(params.get("max_sequences") or 8),
                context_length=int(params.get("context_length") or 1024),
                threads=int(params.get("threads") or 2),
                batch_tokens=int(params.get("batch_tokens") or 512),
            )
        )
        self.evidence_tokens = int(params.get("evidence_tokens") or 160)
        self.evidence_sentences = int(params.get("evidence_sentences") or 6)
        self.threshold = float(params.get("evidence_relevance_threshold") or 0.1)
        self.system = params.get("system_prompt", "").strip() or DEFAULT_SYSTEM
        self.outbox = _Outbox()
        self.logger.log_info(f"[llm] ready: {path}, {self.engine.config}")

    def execute(self, requests: list[Any]) -> None:
        for request in requests:
            sender = request.get_response_sender()
            try:
                self._submit(request, sender)
            except (OptionsError, PromptTooLong) as exc:
                sender.send(_error(str(exc), "INVALID_ARG"), flags=FINAL)
            except Exception as exc:  # noqa: BLE001 - report it to the client instead of dying
                self.logger.log_error(f"[llm] could not start a request: {exc!r}")
                sender.send(_error(f"could not start the request: {exc}", "INTERNAL"), flags=FINAL)
        return None

    def _submit(self, request: Any, sender: Any) -> None:
        tensor = pb_utils.get_input_tensor_by_name(request, "text_input")
        if tensor is None or tensor.as_numpy().size != 1:
            raise OptionsError("text_input must hold exactly one string")
        raw = tensor.as_numpy().reshape(-1)[0]
        prompt = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
        stream = bool(_flag(request, "stream"))
        exclude = _flag(request, "exclude_input_in_output")
        prepend = (not exclude) if exclude is not None else (not stream)
        if prepend and stream:
            raise OptionsError("When streaming, `exclude_input_in_output` = False is not allowed.")
        sp = pb_utils.get_input_tensor_by_name(request, "sampling_parameters")
        raw_params = sp.as_numpy().reshape(-1)[0] if sp is not None and sp.as_numpy().size else None
        options = parse_options(raw_params, self.engine.config.context_length)
        wants = {
            name: bool(_flag(request, name))
            for name in ("return_num_input_tokens", "return_num_output_tokens", "return_finish_reason")
        }
        tokens, prefix_len = self._tokens(prompt)
        sink = _Sink(self.outbox, sender, stream, prompt if prepend else "", wants, len(tokens))
        self.engine.submit(tokens, options, sink, prefix_len)

    def _tokens(self, prompt: str) -> tuple[list[int], int]:
        if "<<<SOURCE" not in prompt and "<<<QUESTION>>>" not in prompt:
            return self.engine.model.tokenize(prompt), 0
        parsed = extractive.parse_prompt(prompt)
        chosen = extractive.select(parsed, self.evidence_sentences, self.threshold)
        evidence = [Evidence(item.source, item.text) for item in chosen]
        chat = render(self.engine.model, parsed.question, evidence, self.evidence_tokens, self.system)
        return chat.tokens, chat.prefix_len

    def finalize(self) -> None:
        self.engine.close()
        self.outbox.close()
        self.logger.log_info("[llm] finalized")
