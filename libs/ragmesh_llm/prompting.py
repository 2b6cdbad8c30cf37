"""The chat prompt an instruct model gets: a fixed system message (its KV cells are shared across
requests) and a short user message of selected evidence sentences under a token budget counted with
the model's own tokenizer, so that prefill (the time to the first token) stays small."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

# One sentence, copied: on the golden set's 63 answerable questions (in-process, bench.llm_golden)
# this wording raised fact-in-answer of the guarded llm path from 0.429 to 0.524 against the former
# "You answer questions from numbered sources. Use only facts stated in the sources. Copy their
# wording. ..." (3 instead of 6 evidence sentences: 0.46; a worked example in the system message: 0.46-0.48).
DEFAULT_SYSTEM = (
    "Answer the question in one sentence, copying the words of the source that answers it. End the "
    "sentence with the number of that source in brackets, like [1]. If the sources do not answer the "
    "question, say: I don't know."
)


class Tokenizer(Protocol):
    def tokenize(self, text: str, special: bool = True) -> list[int]: ...

    def count_tokens(self, text: str) -> int: ...

    def chat(self, messages: Sequence[tuple[str, str]], add_assistant: bool) -> str: ...


@dataclass(frozen=True)
class Evidence:
    label: str  # the source label the sentence came from ("1", "2", ...)
    text: str


@dataclass(frozen=True)
class ChatPrompt:
    tokens: list[int]
    prefix_len: int  # tokens[:prefix_len] is the system message, the same for every request
    evidence: list[Evidence]
    text: str


def evidence_lines(evidence: Sequence[Evidence], budget: int, count: Callable[[str], int]) -> list[Evidence]:
    """Best-first evidence that fits ``budget`` tokens (a line that does not fit is skipped; a shorter
    later one may still fit)."""
    kept: list[Evidence] = []
    used = 0
    for item in evidence:
        cost = count(_line(item))
        if used + cost <= budget:
            kept.append(item)
            used += cost
    return kept


def _line(item: Evidence) -> str:
    return f"[{item.label}] {item.text}\n"


def render(
    tokenizer: Tokenizer, question: str, evidence: Sequence[Evidence], budget: int, system: str = DEFAULT_SYSTEM
) -> ChatPrompt:
    kept = evidence_lines(evidence, budget, tokenizer.count_tokens)
    sources = "".join(_line(item) for item in kept) or "(no sources)\n"
    user = f"Sources:\n{sources}\nQuestion: {question.strip()}"
    text = tokenizer.chat([("system", system), ("user", user)], add_assistant=True)
    tokens = tokenizer.tokenize(text)
    prefix = tokenizer.tokenize(tokenizer.chat([("system", system)], add_assistant=False))
    prefix_len = len(prefix) if tokens[: len(prefix)] == prefix else 0
    return ChatPrompt(tokens=tokens, prefix_len=prefix_len, evidence=kept, text=text)
