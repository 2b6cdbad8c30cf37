from __future__ import annotations

from collections import Counter

import pytest
from pydantic_settings import BaseSettings

from tools.config_docs import OUT, render, settings_classes


def test_configuration_table_matches_the_settings_classes() -> None:
    assert OUT.read_text() == render(), "docs/configuration.md is stale: run python -m tools.config_docs"


@pytest.mark.parametrize("cls", settings_classes(), ids=lambda cls: cls.__name__)
def test_every_setting_has_a_description_of_its_own(cls: type[BaseSettings]) -> None:
    """Inherited fields count too: a row must never borrow its meaning from a neighbour."""
    missing = [name for name, field in cls.model_fields.items() if not (field.description or "").strip()]
    assert not missing, f"{cls.__name__}: give these fields Field(description=...): {missing}"
    counts = Counter(field.description for field in cls.model_fields.values())
    shared = {
        text: [name for name, field in cls.model_fields.items() if field.description == text]
        for text, count in counts.items()
        if count > 1
    }
    assert not shared, f"{cls.__name__}: settings that share one description: {shared}"


def test_every_service_setting_is_in_the_table() -> None:
    text = render()
    for variable in (
        "GATEWAY_API_KEYS_FILE",
        "GATEWAY_EMBED_TIMEOUT_SECONDS",
        "EMBEDDER_TRITON_URL",
        "RETRIEVER_QDRANT_URL",
        "GENERATOR_TRITON_MODEL",
        "INDEXER_CHUNK_TOKENS",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "RAGMESH_STACK_INSTANCE",
    ):
        assert f"`{variable}`" in text
