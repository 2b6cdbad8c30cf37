"""The retriever's request rules: declared metadata fields and their types, result diversity, and
which document state a record keeps."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ragmesh_kit.domain import (
    ACCEPTED,
    DELETED,
    FAILED,
    INDEXED,
    Chunk,
    DocumentState,
    DocumentStatus,
    MetadataFilter,
    Range,
    ScoredChunk,
)
from ragmesh_kit.errors import InvalidArgument
from services.retriever.app.chunk_index import diversify
from services.retriever.app.document_states import kept_state
from services.retriever.app.metadata_schema import MetadataSchema, parse_declared_fields
from services.retriever.settings import RetrieverSettings

SCHEMA = MetadataSchema(parse_declared_fields("year:int, lang:keyword,published:datetime,score:float,public:bool"))


def test_declared_fields_parse_and_bad_declarations_fail() -> None:
    assert parse_declared_fields("year:int,lang:keyword") == {"year": "int", "lang": "keyword"}
    assert parse_declared_fields("") == {}
    for bad in ("year", "year:integer", ":int"):
        with pytest.raises(ValueError, match="metadata field"):
            parse_declared_fields(bad)


def test_declared_fields_setting_takes_json_or_the_earlier_form(monkeypatch: pytest.MonkeyPatch) -> None:
    assert RetrieverSettings().metadata_fields == {"year": "int", "lang": "keyword", "published": "datetime"}
    monkeypatch.setenv("RETRIEVER_METADATA_FIELDS", '{"year": "int", "public": "bool"}')
    assert RetrieverSettings().metadata_fields == {"year": "int", "public": "bool"}
    monkeypatch.setenv("RETRIEVER_METADATA_FIELDS", "year:int,lang:keyword")
    assert RetrieverSettings().metadata_fields == {"year": "int", "lang": "keyword"}
    for bad, says in (
        ('{"year": "integer"}', "'keyword'"),
        ('{"year": int}', "not valid JSON"),
        ("year", "<name>:<type>"),
    ):
        monkeypatch.setenv("RETRIEVER_METADATA_FIELDS", bad)
        with pytest.raises(ValidationError, match="metadata_fields") as refused:
            RetrieverSettings()
        assert says in str(refused.value)


@pytest.mark.parametrize(
    "item",
    [
        MetadataFilter("lang", equals="en"),
        MetadataFilter("lang", any_of=("en", "de")),
        MetadataFilter("year", equals=2024),
        MetadataFilter("year", range=Range(gte=2020)),
        MetadataFilter("score", equals=1),
        MetadataFilter("score", range=Range(lt=0.5)),
        MetadataFilter("public", equals=True),
        MetadataFilter("published", range=Range(gte=1_700_000_000)),
        MetadataFilter("published", equals="2024-05-01T10:00:00Z"),
    ],
)
def test_filters_matching_the_declared_types_pass(item: MetadataFilter) -> None:
    SCHEMA.validate([item])


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (MetadataFilter("author", equals="x"), "not filterable; declared fields: lang (keyword), public (bool)"),
        (MetadataFilter("year", equals="2024"), "equals needs an integer"),
        (MetadataFilter("year", equals=True), "equals needs an integer"),
        (MetadataFilter("year", any_of=("2024",)), "any_of takes strings"),
        (MetadataFilter("lang", equals=3), "equals needs a string"),
        (MetadataFilter("lang", range=Range(gt=1)), "range fits int, float and datetime"),
        (MetadataFilter("public", equals=1), "equals needs a boolean"),
        (MetadataFilter("published", equals="yesterday"), "ISO-8601"),
    ],
)
def test_undeclared_fields_and_mismatched_types_are_invalid(item: MetadataFilter, message: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        SCHEMA.validate([item])
    assert message in raised.value.message


def hit(document: str, number: int, score: float) -> ScoredChunk:
    return ScoredChunk(Chunk(f"{document}#{number}", document, number, 1, "", ""), score)


def test_diversify_keeps_at_most_n_chunks_per_document_in_score_order() -> None:
    found = [hit("a", 0, 0.9), hit("a", 1, 0.8), hit("a", 2, 0.7), hit("b", 0, 0.6), hit("c", 0, 0.5)]
    assert [h.chunk.chunk_id for h in diversify(found, 3, 1)] == ["a#0", "b#0", "c#0"]
    assert [h.chunk.chunk_id for h in diversify(found, 3, 2)] == ["a#0", "a#1", "b#0"]
    assert [h.chunk.chunk_id for h in diversify(found, 2, 0)] == ["a#0", "a#1"]


def test_kept_state_prefers_newer_versions_and_outcomes_over_accepted() -> None:
    def s(state: DocumentState, version: int) -> DocumentStatus:
        return DocumentStatus("d", state, version)

    assert kept_state(None, s(ACCEPTED, 1)) == s(ACCEPTED, 1)
    assert kept_state(s(INDEXED, 2), s(INDEXED, 1)) == s(INDEXED, 2)  # late older report
    assert kept_state(s(INDEXED, 1), s(ACCEPTED, 2)) == s(ACCEPTED, 2)
    assert kept_state(s(INDEXED, 2), s(ACCEPTED, 2)) == s(INDEXED, 2)  # ACCEPTED never hides an outcome
    assert kept_state(s(ACCEPTED, 2), s(FAILED, 2)) == s(FAILED, 2)
    assert kept_state(s(INDEXED, 2), s(DELETED, 2)) == s(DELETED, 2)  # the later report wins
