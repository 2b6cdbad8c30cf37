"""Triton Python model "minilm": all-MiniLM-L6-v2 sentence embeddings with onnxruntime (CPU).

Input TEXT (BYTES [batch, 1]) -> output EMBEDDING (FP32 [batch, 384], unit length; pooling and
normalisation are inside the ONNX graph built by models/build_minilm.py).

All requests of one execute() call (dynamic batching) are tokenised together, grouped by length (each
group padded to its longest text, at most 25% pad tokens) and run one onnxruntime call per group, then
split back per request. A request that cannot be read (bad UTF-8, wrong
shape) gets an error response; the others are still served.

Config parameters: onnx_file (default model.onnx, relative to the version folder), intra_op_threads
(default 2; inter-op is 1), allow_spinning (default 0: idle intra-op threads sleep instead of
spinning), small_work_threads and small_work_tokens (a group of at most that many padded tokens runs
on a session with that many threads; default: intra_op_threads, 1024), max_length (default 256
tokens, longer texts are truncated).
The version folder must hold the ONNX file and tokenizer.json.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import triton_python_backend_utils as pb_utils
from numpy.typing import NDArray

from ragmesh_models.encoder import HIDDEN, OnnxSentenceEncoder
from ragmesh_models.triton_glue import config_parameter, error_response


class TritonPythonModel:
    def initialize(self, args: dict[str, str]) -> None:
        self.logger = pb_utils.Logger
        config = json.loads(args["model_config"])
        version_dir = os.path.join(args["model_repository"], args["model_version"])
        if not os.path.isdir(version_dir):
            version_dir = os.path.dirname(os.path.abspath(__file__))

        onnx_file = config_parameter(config, "onnx_file", "model.onnx")
        onnx_path = onnx_file if os.path.isabs(onnx_file) else os.path.join(version_dir, onnx_file)
        tok_path = os.path.join(version_dir, "tokenizer.json")
        for path in (onnx_path, tok_path):
            if not os.path.isfile(path):
                raise pb_utils.TritonModelException(
                    f"minilm: {path} not found (build it with models/build_minilm.py and place it in the "
                    f"version folder)"
                )
        threads = int(config_parameter(config, "intra_op_threads", "2"))
        spin = config_parameter(config, "allow_spinning", "0").strip().lower() in ("1", "true", "yes")
        small_threads = int(config_parameter(config, "small_work_threads", str(threads)))
        small_tokens = int(config_parameter(config, "small_work_tokens", "1024"))
        self.max_length = int(config_parameter(config, "max_length", "256"))
        self.encoder = OnnxSentenceEncoder(
            onnx_path,
            tok_path,
            threads=threads,
            max_length=self.max_length,
            spin=spin,
            small_threads=small_threads,
            small_tokens=small_tokens,
        )

        # Warm-up (first run allocates), and a shape check of the graph.
        out = self._embed(["warm up"])
        if out.shape != (1, HIDDEN):
            raise pb_utils.TritonModelException(f"minilm: unexpected output shape {out.shape}")
        self.logger.log_info(
            f"[minilm] ready: {os.path.basename(onnx_path)} intra_op_threads={threads} allow_spinning={spin} "
            f"small_work_threads={small_threads} (up to {small_tokens} tokens) "
            f"max_length={self.max_length}"
        )

    def _embed(self, texts: list[str]) -> NDArray[np.float32]:
        return self.encoder.embed(texts)

    def execute(self, requests: list[Any]) -> list[Any]:
        responses: list[Any] = [None] * len(requests)
        texts: list[str] = []
        spans: list[tuple[int, int, int]] = []  # (request index, start, count)
        for i, request in enumerate(requests):
            try:
                arr = pb_utils.get_input_tensor_by_name(request, "TEXT").as_numpy()
                items = arr.reshape(-1)
                if arr.ndim != 2 or arr.shape[1] != 1:
                    raise ValueError(f"TEXT must have shape [batch, 1], got {list(arr.shape)}")
                decoded = [x.decode("utf-8") if isinstance(x, bytes) else str(x) for x in items]
            except UnicodeDecodeError as exc:
                responses[i] = error_response(f"TEXT is not valid UTF-8: {exc}")
                continue
            except Exception as exc:  # noqa: BLE001 - any bad input becomes that request's error
                responses[i] = error_response(f"bad TEXT input: {exc}")
                continue
            spans.append((i, len(texts), len(decoded)))
            texts.extend(decoded)

        # No log line per execute: pb_utils.Logger looks up its caller's source line with inspect on
        # every call, even when verbose logging is off (~3% of the stub's CPU). Batch sizes are in
        # Triton's metrics (nv_inference_exec_count against nv_inference_request_success).
        if texts:
            try:
                vectors = self._embed(texts)
            except Exception as exc:  # noqa: BLE001 - fail the batch's requests, not the model
                self.logger.log_error(f"[minilm] inference failed: {exc!r}")
                for i, _, _ in spans:
                    responses[i] = error_response(f"inference failed: {exc}")
            else:
                for i, start, count in spans:
                    out = pb_utils.Tensor("EMBEDDING", np.ascontiguousarray(vectors[start : start + count]))
                    responses[i] = pb_utils.InferenceResponse(output_tensors=[out])
        return responses

    def finalize(self) -> None:
        self.session = None
