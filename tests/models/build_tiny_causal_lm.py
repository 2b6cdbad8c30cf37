"""Builds a tiny causal LM for the causal_lm model's tests, locally and offline: a byte-level BPE
tokenizer trained here (on CPython's pydoc topics) and a 2-layer GPT-2 with random weights.
Runs in an environment with torch + transformers (the model's EXECUTION_ENV_PATH), not the
services' venv:  <env>/bin/python build_tiny_causal_lm.py OUT_DIR"""

from __future__ import annotations

import sys
from pathlib import Path
from pydoc_data.topics import topics


def build(out: Path) -> None:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=512, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator(list(topics.values()), trainer)
    end = "<|endoftext|>"
    wrapped = PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token=end, bos_token=end)
    torch.manual_seed(1234)
    config = GPT2Config(
        vocab_size=len(wrapped),
        n_positions=8192,
        n_embd=64,
        n_layer=2,
        n_head=2,
        bos_token_id=wrapped.bos_token_id,
        eos_token_id=wrapped.eos_token_id,
    )
    GPT2LMHeadModel(config).save_pretrained(out)
    wrapped.save_pretrained(out)


if __name__ == "__main__":
    build(Path(sys.argv[1]))
