"""Triton Python model "generator": an extractive, grounded stand-in for an LLM.

Decoupled; speaks the tensor interface of Triton's vLLM backend:
  inputs  text_input (BYTES [1]), stream (BOOL [1], optional), sampling_parameters (BYTES [1], optional
          JSON), exclude_input_in_output (BOOL [1], optional)
  output  text_output (BYTES [-1])

The answer is built by ragmesh_answering.extractive from the sources in the prompt (see that module).

Responses (same conventions as the vLLM backend):
- stream=true: one response per word piece (each piece carries the whitespace before it, so the
  concatenation of all pieces is the answer); the LAST piece carries the
  TRITONSERVER_RESPONSE_COMPLETE_FINAL flag. There is no separate empty final response.
- stream=false/absent: one response with the whole answer and the FINAL flag. As in the vLLM backend the
  prompt is prepended to the answer unless exclude_input_in_output=true is sent; with stream=true,
  exclude_input_in_output=false is an error.
- Cancellation (checked before each piece): generation stops, it is logged, and the request is finished
  with an error response (code CANCELLED) + FINAL.
- Bad input (missing/undecodable text_input, invalid sampling_parameters): one error response + FINAL.

sampling_parameters keys honoured: max_tokens, max_sentences, relevance_threshold, piece_delay_ms,
piece_granularity (sentence: one piece per answer sentence, the default; word); others
(temperature, top_p, ...) are ignored. Config parameters give the defaults: max_sentences,
relevance_threshold, piece_delay_ms; max_concurrency sizes the worker pool (requests run in threads so a
slow/delayed generation does not block the others).
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import triton_python_backend_utils as pb_utils

from ragmesh_answering import extractive
from ragmesh_models.triton_glue import config_parameters, error_response

FINAL = pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL


def _text_response(text: str) -> Any:
    tensor = pb_utils.Tensor("text_output", np.array([text.encode("utf-8")], dtype=np.object_))
    return pb_utils.InferenceResponse(output_tensors=[tensor])


def _bool_input(request: Any, name: str) -> bool | None:
    tensor = pb_utils.get_input_tensor_by_name(request, name)
    if tensor is None:
        return None
    arr = tensor.as_numpy()
    if arr.size == 0:
        return None
    return bool(arr.reshape(-1)[0])


class TritonPythonModel:
    def initialize(self, args: dict[str, str]) -> None:
        self.logger = pb_utils.Logger
        config = json.loads(args["model_config"])
        if not pb_utils.using_decoupled_model_transaction_policy(config):
            raise pb_utils.TritonModelException("generator must be decoupled (model_transaction_policy)")
        params = config_parameters(config)
        # Defaults for the per-request options; validated with the same rules as sampling_parameters.
        defaults = {
            k: params[k]
            for k in ("max_sentences", "relevance_threshold", "piece_delay_ms", "piece_granularity")
            if params.get(k, "").strip()
        }
        try:
            self.defaults = extractive.parse_sampling_parameters(json.dumps(defaults))
        except extractive.OptionsError as exc:
            raise pb_utils.TritonModelException(f"bad config parameter: {exc}") from None
        self.defaults["max_tokens"] = None
        workers = int(params.get("max_concurrency", "") or 16)
        self.pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="generator")
        self.stopping = threading.Event()
        self.logger.log_info(f"[generator] ready: defaults={self.defaults} max_concurrency={workers}")

    def execute(self, requests: list[Any]) -> None:
        for request in requests:
            sender = request.get_response_sender()
            try:
                job = self._read(request)
            except extractive.OptionsError as exc:
                sender.send(error_response(str(exc)), flags=FINAL)
                continue
            except Exception as exc:  # noqa: BLE001 - never let one request take the model down
                self.logger.log_error(f"[generator] bad request: {exc!r}")
                sender.send(error_response(f"bad request: {exc}"), flags=FINAL)
                continue
            self.pool.submit(self._generate, sender, *job)
        return None

    def _read(self, request: Any) -> tuple[str, bool, bool, Any]:
        tensor = pb_utils.get_input_tensor_by_name(request, "text_input")
        if tensor is None:
            raise extractive.OptionsError("missing input 'text_input'")
        arr = tensor.as_numpy().reshape(-1)
        if arr.size != 1:
            raise extractive.OptionsError(f"text_input must hold exactly one string, got {arr.size}")
        raw = arr[0]
        if isinstance(raw, bytes):
            try:
                prompt = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise extractive.OptionsError(f"text_input is not valid UTF-8: {exc}") from None
        else:
            prompt = str(raw)

        stream = bool(_bool_input(request, "stream"))
        exclude = _bool_input(request, "exclude_input_in_output")
        prepend = (not exclude) if exclude is not None else (not stream)
        if prepend and stream:
            raise extractive.OptionsError("When streaming, `exclude_input_in_output` = False is not allowed.")

        sp = pb_utils.get_input_tensor_by_name(request, "sampling_parameters")
        if sp is not None and sp.as_numpy().size:
            raw_params = sp.as_numpy().reshape(-1)[0]
        else:
            raw_params = request.parameters() if hasattr(request, "parameters") else None
        options = extractive.parse_sampling_parameters(raw_params, self.defaults)
        return prompt, stream, prepend, options

    def _generate(self, sender: Any, prompt: str, stream: bool, prepend: bool, options: dict[str, Any]) -> None:
        try:
            text = extractive.answer(prompt, options["max_sentences"], options["relevance_threshold"])
            parts = extractive.answer_pieces(text, options["max_tokens"], options["piece_granularity"])
            delay = options["piece_delay_ms"] / 1000.0
            produced = []
            for i, piece in enumerate(parts):
                if i and delay:
                    time.sleep(delay)
                if sender.is_cancelled() or self.stopping.is_set():
                    why = "cancelled by the client" if not self.stopping.is_set() else "model is shutting down"
                    self.logger.log_info(f"[generator] request {why} after {i}/{len(parts)} pieces")
                    sender.send(error_response(f"Request was {why}", "CANCELLED"), flags=FINAL)
                    return
                if stream:
                    sender.send(_text_response(piece), flags=FINAL if i == len(parts) - 1 else 0)
                else:
                    produced.append(piece)
            if not parts:  # max_tokens cut everything (cannot happen with max_tokens >= 1)
                sender.send(_text_response(""), flags=FINAL)
            elif not stream:
                out = "".join(produced)
                sender.send(_text_response(prompt + out if prepend else out), flags=FINAL)
        except Exception as exc:  # noqa: BLE001 - report it to the client instead of dying
            self.logger.log_error(f"[generator] generation failed: {exc!r}")
            try:
                sender.send(error_response(f"generation failed: {exc}", "INTERNAL"), flags=FINAL)
            except Exception as send_exc:  # noqa: BLE001 - the request may already be complete
                self.logger.log_error(f"[generator] could not send the error: {send_exc!r}")

    def finalize(self) -> None:
        self.stopping.set()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.logger.log_info("[generator] finalized")
