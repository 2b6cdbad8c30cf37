"""Prometheus series of the generator, registered on the service's own registry."""

from __future__ import annotations

from ragmesh_kit.metrics import LATENCY_BUCKETS, ServiceMetrics


class GenerationMetrics:
    def __init__(self, metrics: ServiceMetrics, model: str) -> None:
        self._model = model
        self._first_piece = metrics.histogram(
            "ragmesh_generator_time_to_first_piece_seconds",
            "Seconds from sending the prompt to Triton to the first generated piece.",
            ["model"],
            LATENCY_BUCKETS,
        )
        self._duration = metrics.histogram(
            "ragmesh_generator_generation_seconds",
            "Seconds a generation ran, by outcome (completed, cancelled, failed).",
            ["model", "outcome"],
            LATENCY_BUCKETS,
        )
        self._generations = metrics.counter(
            "ragmesh_generator_generations_total", "Generations by outcome.", ["model", "outcome"]
        )

        self._tokens = metrics.counter(
            "ragmesh_generator_tokens_total",
            "Tokens by kind (prompt, completion): the model's own counts when it reports them, else "
            "cl100k_base; the completion rate is generated tokens/s.",
            ["model", "kind"],
        )
        self._grounding = metrics.counter(
            "ragmesh_generator_grounding_total",
            "Language-model answers by what the grounding guard did (grounded, sentences_dropped, "
            "extractive_fallback): the fallback rate per model.",
            ["model", "outcome"],
        )

    def grounding(self, outcome: str) -> None:
        self._grounding.labels(self._model, outcome).inc()

    def tokens(self, prompt_tokens: int, completion_tokens: int) -> None:
        self._tokens.labels(self._model, "prompt").inc(prompt_tokens)
        self._tokens.labels(self._model, "completion").inc(completion_tokens)

    def first_piece(self, seconds: float) -> None:
        self._first_piece.labels(self._model).observe(seconds)

    def finished(self, outcome: str, seconds: float) -> None:
        self._duration.labels(self._model, outcome).observe(seconds)
        self._generations.labels(self._model, outcome).inc()
