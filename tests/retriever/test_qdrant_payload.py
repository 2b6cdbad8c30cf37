"""The shared payload layout, point ids and filter rules (no engine needed)."""

from __future__ import annotations

from ragmesh_kit.domain import Chunk, MetadataFilter, Range
from services.retriever.adapters import qdrant_payload as qp


def test_point_id_is_deterministic_and_unambiguous() -> None:
    assert qp.point_id("t", "c") == qp.point_id("t", "c")
    assert qp.point_id("t", "c") != qp.point_id("u", "c")
    # No separator can make two different (tenant, chunk) pairs collide.
    assert qp.point_id("a:b", "c") != qp.point_id("a", "b:c")


def test_payload_round_trip_and_layout() -> None:
    chunk = Chunk("c1", "d1", 4, 3, "T", "body", {"lang": "en", "n": 2, "x": 0.5, "ok": True})
    payload = qp.build_payload("t1", chunk)
    assert payload["tenant"] == "t1" and payload["meta"] == chunk.metadata
    assert payload["meta_bool"] == {"ok": 1}
    assert qp.parse_payload(payload) == chunk
    assert "text_tokens" not in payload  # not counted: nothing stored
    counted = Chunk("c1", "d1", 4, 3, "T", "body", {}, text_tokens=2)
    assert qp.parse_payload(qp.build_payload("t1", counted)) == counted
    # A point written before counts were stored reads as "not counted".
    old = {k: v for k, v in qp.build_payload("t1", counted).items() if k != "text_tokens"}
    assert qp.parse_payload(old).text_tokens == 0


def test_conditions() -> None:
    conds = qp.search_conditions(
        "t",
        [
            MetadataFilter("lang", equals="en"),
            MetadataFilter("ok", equals=False),
            MetadataFilter("x", equals=0.5),
            MetadataFilter("lang", any_of=("en", "de")),
            MetadataFilter("n", range=Range(gte=1, lt=3)),
        ],
    )
    assert conds == [
        qp.Condition("tenant", "value", value="t"),
        qp.Condition("meta.lang", "value", value="en"),
        qp.Condition("meta_bool.ok", "value", value=0),
        qp.Condition("meta.x", "range", rng=Range(gte=0.5, lte=0.5)),
        qp.Condition("meta.lang", "any", values=("en", "de")),
        qp.Condition("meta.n", "range", rng=Range(gte=1, lt=3)),
    ]
    assert qp.delete_conditions("t", "d", 0)[-1] == qp.Condition("document_id", "value", value="d")
    assert qp.delete_conditions("t", "d", 5)[-1] == qp.Condition("version", "range", rng=Range(lt=5.0))
    assert qp.effective_threshold(0.0) is None and qp.effective_threshold(0.3) == 0.3
