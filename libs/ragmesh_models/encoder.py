"""Sentence encoder on onnxruntime (no Triton imports), shared by the Triton model and the
benchmark's in-process limit so both run exactly the same code on the same ONNX file."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

HIDDEN = 384


class OnnxSentenceEncoder:
    def __init__(
        self, onnx_path: str, tokenizer_path: str, threads: int = 2, max_length: int = 256, spin: bool = False
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # Spinning intra-op threads keep burning a core between batches (measured: 9.1 vs 5.6 ms of
        # CPU per single-text call at 2 threads), CPU the other processes of a small node need.
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
        self.session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
        self.input_names = {i.name for i in self.session.get_inputs()}
        self.output_name = self.session.get_outputs()[0].name
        self.max_length = max_length
        self.tokenizer = Tokenizer.from_file(tokenizer_path)
        self.tokenizer.enable_truncation(max_length=max_length)
        pad_id = self.tokenizer.token_to_id("[PAD]")
        self.tokenizer.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token="[PAD]")  # noqa: S106

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        """Unit-length vectors, one row per text (pooling and normalisation are in the graph)."""
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        feeds = {
            "input_ids": ids,
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.zeros_like(ids),
        }
        feeds = {k: v for k, v in feeds.items() if k in self.input_names}
        embeddings: NDArray[np.float32] = self.session.run([self.output_name], feeds)[0].astype(np.float32, copy=False)
        return embeddings
