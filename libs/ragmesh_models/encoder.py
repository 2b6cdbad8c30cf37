"""Sentence encoder on onnxruntime (no Triton imports), shared by the Triton model and the
benchmark's in-process limit so both run exactly the same code on the same ONNX file."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

HIDDEN = 384


class OnnxSentenceEncoder:
    def __init__(
        self,
        onnx_path: str,
        tokenizer_path: str,
        threads: int = 2,
        max_length: int = 256,
        spin: bool = False,
        small_threads: int | None = None,
        small_tokens: int = 1024,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        def session(intra_threads: int) -> ort.InferenceSession:
            options = ort.SessionOptions()
            options.intra_op_num_threads = intra_threads
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            # Spinning intra-op threads keep burning a core between batches (measured: 9.1 vs 5.6 ms
            # of CPU per single-text call at 2 threads), CPU the other processes of a small node need.
            options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
            return ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])

        self.session = session(threads)
        # Small work (a question, a handful of short texts) runs on its own session with fewer
        # threads: waking a second thread for 20 tokens costs more than it saves (measured, one
        # question at a time: 2.48 ms of CPU and 2.48 ms wall on 1 thread, 3.84 ms CPU and 2.76 ms wall
        # on 2), while a batch of document chunks still gets every thread (5.4 -> 3.3 ms wall per text).
        self.small_session = (
            session(small_threads) if small_threads is not None and small_threads != threads else self.session
        )
        self.small_tokens = small_tokens
        self.input_names = {i.name for i in self.session.get_inputs()}
        self.output_name = self.session.get_outputs()[0].name
        self.max_length = max_length
        self.tokenizer = Tokenizer.from_file(tokenizer_path)
        self.tokenizer.enable_truncation(max_length=max_length)
        # Padding is done per bucket in embed(), not by the tokenizer: a batch padded to its longest
        # text pays full compute for every pad token (measured, 20-token questions on average, up to 96:
        # 32 texts padded together cost 6.96 ms of CPU per text against 2.45 ms one by one, and 2.61 ms
        # when sorted by length first).
        self.tokenizer.no_padding()
        pad_id = self.tokenizer.token_to_id("[PAD]")
        self.pad_id = 0 if pad_id is None else pad_id

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        """Unit-length vectors, one row per text (pooling and normalisation are in the graph)."""
        encodings = self.tokenizer.encode_batch(texts)
        out = np.empty((len(texts), HIDDEN), dtype=np.float32)
        for bucket in length_buckets([len(e.ids) for e in encodings]):
            out[bucket] = self._run([encodings[i].ids for i in bucket])
        return out

    def _run(self, rows: list[list[int]]) -> NDArray[np.float32]:
        width = max(len(row) for row in rows)
        ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for n, row in enumerate(rows):
            ids[n, : len(row)] = row
            mask[n, : len(row)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        feeds = {k: v for k, v in feeds.items() if k in self.input_names}
        session = self.small_session if ids.size <= self.small_tokens else self.session
        embeddings: NDArray[np.float32] = session.run([self.output_name], feeds)[0].astype(np.float32, copy=False)
        return embeddings


def length_buckets(lengths: list[int], slack: float = 1.25) -> list[list[int]]:
    """Indexes of ``lengths`` grouped so that padding each group to its longest member adds at most
    ``slack`` - 1 of pad tokens: texts sorted by length, a group closed when the next text would
    push the padded size past that bound."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    buckets: list[list[int]] = []
    current: list[int] = []
    real = 0
    for index in order:
        length = lengths[index]
        if current and length * (len(current) + 1) > slack * (real + length):
            buckets.append(current)
            current, real = [], 0
        current.append(index)
        real += length
    if current:
        buckets.append(current)
    return buckets
