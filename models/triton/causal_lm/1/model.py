"""Triton Python model "causal_lm": any local Hugging Face causal LM, streamed token by token.

Decoupled; speaks the tensor interface of Triton's vLLM backend, like the "generator" model:
  inputs  text_input (BYTES [1]), stream (BOOL [1], optional), sampling_parameters (BYTES [1], optional
          JSON), exclude_input_in_output (BOOL [1], optional)
  output  text_output (BYTES [-1])

- stream=true: one response per generated token (its text; "" while a stop string may be starting or a
  character is incomplete); the last one carries TRITONSERVER_RESPONSE_COMPLETE_FINAL.
- stream=false/absent: one response with the whole output (the prompt prepended unless
  exclude_input_in_output=true); with stream=true, exclude_input_in_output=false is an error.
- Cancellation is checked before each token: generation stops, it is logged, and the request ends with
  an error response (CANCELLED) + FINAL.
Sampling parameters: see ragmesh_models/causal_lm.py. Config parameters: hf_model_dir (empty: not configured, every
request is refused and torch is never imported), max_concurrency (worker threads), torch_threads.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import triton_python_backend_utils as pb_utils

from ragmesh_models import causal_lm
from ragmesh_models.triton_glue import config_parameters, error_response

FINAL = pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL


def _text_response(text: str) -> Any:
    tensor = pb_utils.Tensor("text_output", np.array([text.encode("utf-8")], dtype=np.object_))
    return pb_utils.InferenceResponse(output_tensors=[tensor])


def _bool_input(request: Any, name: str) -> bool | None:
    tensor = pb_utils.get_input_tensor_by_name(request, name)
    if tensor is None or tensor.as_numpy().size == 0:
        return None
    return bool(tensor.as_numpy().reshape(-1)[0])


class TritonPythonModel:
    def initialize(self, args: dict[str, str]) -> None:
        self.logger = pb_utils.Logger
        config = json.loads(args["model_config"])
        if not pb_utils.using_decoupled_model_transaction_policy(config):
            raise pb_utils.TritonModelException("causal_lm must be decoupled (model_transaction_policy)")
        params = config_parameters(config)
        model_dir = params.get("hf_model_dir", "").strip()
        self.model = None
        if model_dir:
            self.model = causal_lm.LoadedModel(model_dir, int(params.get("torch_threads") or 1))
        workers = max(1, int(params.get("max_concurrency") or 4))
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="causal_lm")
        self.stopping = threading.Event()
        where = model_dir or "nothing (hf_model_dir is empty: requests are refused)"
        self.logger.log_info(f"[causal_lm] ready: serving {where}, max_concurrency={workers}")

    def execute(self, requests: list[Any]) -> None:
        for request in requests:
            sender = request.get_response_sender()
            if self.model is None:
                sender.send(
                    error_response("causal_lm is not configured: set its hf_model_dir parameter", "UNAVAILABLE"),
                    flags=FINAL,
                )
                continue
            try:
                job = self._read(request)
            except (causal_lm.OptionsError, ValueError) as exc:
                sender.send(error_response(str(exc)), flags=FINAL)
                continue
            self.pool.submit(self._generate, self.model, sender, *job)
        return None

    def _read(self, request: Any) -> tuple[str, bool, bool, Any]:
        tensor = pb_utils.get_input_tensor_by_name(request, "text_input")
        if tensor is None or tensor.as_numpy().size != 1:
            raise causal_lm.OptionsError("text_input must hold exactly one string")
        raw = tensor.as_numpy().reshape(-1)[0]
        prompt = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        stream = bool(_bool_input(request, "stream"))
        exclude = _bool_input(request, "exclude_input_in_output")
        prepend = (not exclude) if exclude is not None else (not stream)
        if prepend and stream:
            raise causal_lm.OptionsError("When streaming, `exclude_input_in_output` = False is not allowed.")
        sp = pb_utils.get_input_tensor_by_name(request, "sampling_parameters")
        raw_params = sp.as_numpy().reshape(-1)[0] if sp is not None and sp.as_numpy().size else None
        return prompt, stream, prepend, causal_lm.parse_options(raw_params)

    def _generate(
        self,
        model: causal_lm.LoadedModel,
        sender: Any,
        prompt: str,
        stream: bool,
        prepend: bool,
        options: causal_lm.Options,
    ) -> None:
        scanner = causal_lm.StopScanner(options.stop)
        tokens = 0

        def cancelled() -> bool:
            return sender.is_cancelled() or self.stopping.is_set()

        try:
            for delta, last in model.tokens(prompt, options, cancelled):
                tokens += 1
                text = scanner.feed(delta)
                done = last or scanner.stopped
                if done:
                    text += "" if scanner.stopped else scanner.flush()
                if stream:
                    sender.send(_text_response(text), flags=FINAL if done else 0)
                if done:
                    break
            else:  # the loop ended without a last token (cannot happen; be safe)
                if stream:
                    sender.send(_text_response(scanner.flush()), flags=FINAL)
            if not stream:
                sender.send(_text_response((prompt if prepend else "") + scanner.text), flags=FINAL)
        except causal_lm.Cancelled as stopped:
            why = "model is shutting down" if self.stopping.is_set() else "cancelled by the client"
            self.logger.log_info(f"[causal_lm] request {why} after {stopped.tokens}/{options.max_tokens} tokens")
            sender.send(error_response(f"Request was {why}", "CANCELLED"), flags=FINAL)
        except causal_lm.OptionsError as exc:
            sender.send(error_response(str(exc)), flags=FINAL)
        except Exception as exc:  # noqa: BLE001 - report it to the client instead of dying
            self.logger.log_error(f"[causal_lm] generation failed after {tokens} tokens: {exc!r}")
            try:
                sender.send(error_response(f"generation failed: {exc}", "INTERNAL"), flags=FINAL)
            except Exception as send_exc:  # noqa: BLE001 - the request may already be complete
                self.logger.log_error(f"[causal_lm] could not send the error: {send_exc!r}")

    def finalize(self) -> None:
        self.stopping.set()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.logger.log_info("[causal_lm] finalized")
