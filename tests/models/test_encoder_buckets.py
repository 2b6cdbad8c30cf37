"""The sentence encoder pads texts per length group, not to the longest text of the whole batch:
the grouping keeps every text once and bounds the pad tokens, and the vectors of a mixed batch
are those of the texts embedded one by one (on the real int8 ONNX file `make setup` builds)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ragmesh_devstack.settings import StackSettings
from ragmesh_models.encoder import OnnxSentenceEncoder, length_buckets


@given(st.lists(st.integers(min_value=1, max_value=256), max_size=80))
def test_every_text_in_one_group_with_bounded_padding(lengths: list[int]) -> None:
    buckets = length_buckets(lengths, slack=1.25)
    assert sorted(i for bucket in buckets for i in bucket) == list(range(len(lengths)))
    for bucket in buckets:
        padded = max(lengths[i] for i in bucket) * len(bucket)
        real = sum(lengths[i] for i in bucket)
        assert len(bucket) == 1 or padded <= 1.25 * real


def test_short_and_long_texts_are_not_padded_together() -> None:
    assert length_buckets([10, 200, 11, 12, 190]) == [[0, 2, 3], [4, 1]]


@pytest.fixture(scope="module")
def encoder() -> OnnxSentenceEncoder:
    artifacts = StackSettings().deps_dir / "models"
    if not (artifacts / "minilm-int8.onnx").exists():
        pytest.fail(f"{artifacts}/minilm-int8.onnx is missing: run `make setup`")
    return OnnxSentenceEncoder(
        str(artifacts / "minilm-int8.onnx"), str(artifacts / "tokenizer.json"), threads=2, small_threads=1
    )


def test_mixed_batch_runs_per_length_and_keeps_the_order(
    encoder: OnnxSentenceEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = [
        "How do I rotate an API key?",
        "The indexer retries a failed upsert three times, then sends the document to the dead-letter "
        "topic with the error and the original event, so that an operator can replay it later.",
        "Where do traces go?",
        "Quotas and budgets " * 60,
    ]
    alone = np.stack([encoder.embed([text])[0] for text in texts])
    shapes: list[tuple[int, int]] = []
    for name in ("session", "small_session"):
        monkeypatch.setattr(encoder, name, _Recording(getattr(encoder, name), name, [], shapes))
    together = encoder.embed(texts)
    # The two questions ran together at their own width; neither long text padded them.
    assert shapes[0][0] == 2 and shapes[0][1] < 15, shapes
    assert sum(rows for rows, _ in shapes) == 4
    # Each row is its own text's vector (int8 activations are quantised per call, so a batch is
    # close to, not equal to, single calls).
    similarity = together @ alone.T
    assert list(similarity.argmax(axis=1)) == [0, 1, 2, 3]
    assert float(np.diag(similarity).min()) > 0.98


def test_small_work_runs_on_the_small_session(encoder: OnnxSentenceEncoder, monkeypatch: pytest.MonkeyPatch) -> None:
    used: list[str] = []
    for name in ("session", "small_session"):
        session = getattr(encoder, name)
        monkeypatch.setattr(encoder, name, _Recording(session, name, used))
    encoder.embed(["one short question"])
    encoder.embed(["a long chunk of a document " * 40] * 8)
    assert used == ["small_session", "session"]


class _Recording:
    def __init__(
        self, session: object, name: str, used: list[str], shapes: list[tuple[int, int]] | None = None
    ) -> None:
        self.session, self.name, self.used, self.shapes = session, name, used, shapes

    def run(self, outputs: list[str], feeds: dict[str, np.ndarray]) -> object:  # type: ignore[type-arg]
        self.used.append(self.name)
        if self.shapes is not None:
            rows, width = feeds["input_ids"].shape
            self.shapes.append((int(rows), int(width)))
        return self.session.run(outputs, feeds)  # type: ignore[attr-defined]
