"""A GGUF model loaded by llama.cpp: its tokenizer and the chat template stored in it."""

from __future__ import annotations

import ctypes
import logging
import os
from collections.abc import Sequence
from typing import Any

_log = logging.getLogger(__name__)


def _log_from_llama(level: int, text: bytes, _user_data: object) -> None:
    if level in (3, 4):  # GGML_LOG_LEVEL_WARN, GGML_LOG_LEVEL_ERROR
        _log.warning("llama.cpp: %s", text.decode("utf-8", "replace").rstrip())


class LlamaModel:
    def __init__(self, path: str) -> None:
        # llama.cpp's threads meet in OpenMP barriers, which spin by default: on cores shared with
        # Triton's frontend and the services, a spinning thread holds the core its peer needs. Passive
        # waits measured 48 against 10 tokens/s on a loaded 2-core machine. Read when libgomp loads.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import llama_cpp as ll

        self.ll: Any = ll
        # llama.cpp logs every load step at INFO on stderr; keep its warnings and errors only.
        self._log_callback = ll.llama_log_callback(_log_from_llama)
        ll.llama_log_set(self._log_callback, ctypes.c_void_p(0))
        ll.llama_backend_init()
        self.handle = ll.llama_model_load_from_file(path.encode(), ll.llama_model_default_params())
        if not self.handle:
            raise RuntimeError(f"llama.cpp could not load {path}")
        self.vocab = ll.llama_model_get_vocab(self.handle)

    def tokenize(self, text: str, special: bool = True) -> list[int]:
        data = text.encode("utf-8")
        size = len(data) + 16
        buf = (self.ll.llama_token * size)()
        n = self.ll.llama_tokenize(self.vocab, data, len(data), buf, size, special, special)
        if n < 0:
            buf = (self.ll.llama_token * -n)()
            n = self.ll.llama_tokenize(self.vocab, data, len(data), buf, -n, special, special)
        return list(buf[:n])

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text, special=False))

    def piece(self, token: int) -> bytes:
        buf = ctypes.create_string_buffer(64)
        n = self.ll.llama_token_to_piece(self.vocab, token, buf, 64, 0, False)
        if n < 0:
            buf = ctypes.create_string_buffer(-n)
            n = self.ll.llama_token_to_piece(self.vocab, token, buf, -n, 0, False)
        return buf.raw[:n]

    def chat(self, messages: Sequence[tuple[str, str]], add_assistant: bool) -> str:
        """Renders messages with the chat template stored in the GGUF."""
        ll = self.ll
        template = ll.llama_model_chat_template(self.handle, None)
        array = (ll.llama_chat_message * len(messages))()
        keep = [(role.encode(), content.encode()) for role, content in messages]
        for slot, (role, content) in zip(array, keep, strict=True):
            slot.role, slot.content = role, content
        size = sum(len(r) + len(c) for r, c in keep) * 2 + 256
        buf = ctypes.create_string_buffer(size)
        n = ll.llama_chat_apply_template(template, array, len(keep), add_assistant, buf, size)
        if n > size:
            buf = ctypes.create_string_buffer(n)
            n = ll.llama_chat_apply_template(template, array, len(keep), add_assistant, buf, n)
        if n < 0:
            raise RuntimeError("the model's chat template could not be applied")
        return buf.raw[:n].decode("utf-8")

    def free(self) -> None:
        self.ll.llama_model_free(self.handle)
