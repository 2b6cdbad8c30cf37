"""Relays Triton's own Prometheus series (queue and compute time, request counts) of chosen models
through a service's metrics endpoint, so one scrape of the embedder or generator shows the model
server's side of its calls too."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterable, Sequence

from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

RELAYED = (
    "nv_inference_request_success",
    "nv_inference_request_failure",
    "nv_inference_count",
    "nv_inference_exec_count",
    "nv_inference_queue_duration_us",
    "nv_inference_compute_infer_duration_us",
    "nv_inference_request_duration_us",
)


class TritonMetricsRelay(Collector):
    def __init__(self, metrics_url: str, models: Sequence[str], timeout_seconds: float = 1.0) -> None:
        self._url = metrics_url
        self._models = set(models)
        self._timeout = timeout_seconds

    def collect(self) -> Iterable[Metric]:
        try:
            with urllib.request.urlopen(self._url, timeout=self._timeout) as reply:  # noqa: S310 - configured URL
                text = reply.read().decode()
        except OSError:
            return []  # Triton down: the service's own series still get scraped
        relayed: list[Metric] = []
        for family in text_string_to_metric_families(text):
            if family.name not in RELAYED:
                continue
            # Relayed as untyped under Triton's own sample names: typed counters would be renamed
            # with a _total suffix and no longer match Triton's documentation and dashboards.
            metric = Metric(family.name, family.documentation, "untyped")
            metric.samples = [
                Sample(family.name, s.labels, s.value, s.timestamp, s.exemplar)
                for s in family.samples
                if s.labels.get("model") in self._models
            ]
            if metric.samples:
                relayed.append(metric)
        return relayed
