from __future__ import annotations

from tools.config_docs import OUT, render


def test_configuration_table_matches_the_settings_classes() -> None:
    assert OUT.read_text() == render(), "docs/configuration.md is stale: run python -m tools.config_docs"


def test_every_service_setting_is_in_the_table() -> None:
    text = render()
    for variable in (
        "GATEWAY_API_KEYS_FILE",
        "EMBEDDER_TRITON_URL",
        "RETRIEVER_QDRANT_URL",
        "GENERATOR_TRITON_MODEL",
        "INDEXER_CHUNK_TOKENS",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ):
        assert f"`{variable}`" in text
