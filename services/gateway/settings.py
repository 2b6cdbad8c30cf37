from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from ragmesh_kit.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    service_name: str = "gateway"
    port: int = 50051
    metrics_port: int = 9451
    embedder_addr: str = "127.0.0.1:50052"
    retriever_addr: str = "127.0.0.1:50053"
    generator_addr: str = "127.0.0.1:50054"
    kafka_bootstrap: str = "127.0.0.1:9092"
    documents_topic: str = "ragmesh.documents.v1"
    # API keys are stored hashed: lines "<sha256 hex of key> <tenant id>" in this file ...
    api_keys_file: str = ""
    # ... and/or the same entries separated by commas: "<sha256 hex>:<tenant>,...".
    api_keys: str = ""
    embed_timeout_seconds: float = 5.0
    search_timeout_seconds: float = 5.0
    generate_timeout_seconds: float = 60.0
    publish_timeout_seconds: float = 10.0
    default_top_k: int = 5
    max_top_k: int = 50
    max_question_chars: int = 4000
    max_document_bytes: int = 2 * 1024 * 1024
