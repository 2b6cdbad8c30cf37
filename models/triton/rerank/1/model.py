"""Triton Python model "rerank": sentence-level rescoring of retrieved chunks (see ragmesh_models/rescoring.py).

Inputs QUERY (BYTES [1]), TEXTS (BYTES [n], the candidate chunks, best first), TITLES (BYTES [n],
optional) -> output SCORES (FP32 [n], higher is better). A request that cannot be read gets an error
response naming what to fix; the others are still served.

Config parameters: onnx_file (default model.onnx, relative to the version folder), intra_op_threads
(default 2), max_length (default 128 tokens: sentences are short), rank_weight (default 0.1).
The version folder must hold the ONNX file and tokenizer.json (the ones "minilm" uses).
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import triton_python_backend_utils as pb_utils

from ragmesh_models.encoder import OnnxSentenceEncoder
from ragmesh_models.rescoring import rescore
from ragmesh_models.triton_glue import config_parameter, error_response

_HERE = os.path.dirname(os.path.abspath(__file__))


def _strings(request: Any, name: str) -> list[str]:
    tensor = pb_utils.get_input_tensor_by_name(request, name)
    if tensor is None:
        return []
    return [x.decode("utf-8") if isinstance(x, bytes) else str(x) for x in tensor.as_numpy().reshape(-1)]


class TritonPythonModel:
    def initialize(self, args: dict[str, str]) -> None:
        self.logger = pb_utils.Logger
        config = json.loads(args["model_config"])
        version_dir = os.path.join(args["model_repository"], args["model_version"])
        if not os.path.isdir(version_dir):
            version_dir = _HERE
        onnx_file = config_parameter(config, "onnx_file", "model.onnx")
        onnx_path = onnx_file if os.path.isabs(onnx_file) else os.path.join(version_dir, onnx_file)
        tok_path = os.path.join(version_dir, "tokenizer.json")
        for path in (onnx_path, tok_path):
            if not os.path.isfile(path):
                raise pb_utils.TritonModelException(
                    f"rerank: {path} not found (the minilm ONNX file and tokenizer.json belong in the version folder)"
                )
        threads = int(config_parameter(config, "intra_op_threads", "2"))
        max_length = int(config_parameter(config, "max_length", "128"))
        self.rank_weight = float(config_parameter(config, "rank_weight", "0.1"))
        self.encoder = OnnxSentenceEncoder(onnx_path, tok_path, threads=threads, max_length=max_length)
        rescore(self.encoder.embed, "warm up", ["Warm up the encoder once."])
        self.logger.log_info(f"[rerank] ready: intra_op_threads={threads} rank_weight={self.rank_weight}")

    def execute(self, requests: list[Any]) -> list[Any]:
        responses = []
        for request in requests:
            try:
                query = _strings(request, "QUERY")
                texts = _strings(request, "TEXTS")
                titles = _strings(request, "TITLES")
            except UnicodeDecodeError as exc:
                responses.append(error_response(f"QUERY, TEXTS and TITLES must be UTF-8: {exc}"))
                continue
            if len(query) != 1 or not query[0].strip():
                responses.append(error_response("QUERY must hold one non-empty question"))
                continue
            if titles and len(titles) != len(texts):
                responses.append(
                    error_response(f"TITLES has {len(titles)} entries; send one per TEXTS entry ({len(texts)})")
                )
                continue
            try:
                scores = rescore(self.encoder.embed, query[0], texts, titles, self.rank_weight)
            except Exception as exc:  # noqa: BLE001 - fail this request, not the model
                self.logger.log_error(f"[rerank] scoring failed: {exc!r}")
                responses.append(error_response(f"scoring failed: {exc}"))
                continue
            out = pb_utils.Tensor("SCORES", np.ascontiguousarray(scores, dtype=np.float32))
            responses.append(pb_utils.InferenceResponse(output_tensors=[out]))
        return responses
