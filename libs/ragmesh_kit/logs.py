"""JSON log lines carrying the current trace and span ids, so a log line leads to its trace; emails,
phone and card numbers in them are redacted (on by default, see ``ragmesh_kit.redaction``)."""

from __future__ import annotations

import json
import logging
import sys
import time

from opentelemetry import trace

from ragmesh_kit.redaction import Redactor

# Fields that never hold user text (written by the formatter itself, or the access line's method
# name and status code): not run through the redaction patterns, which cost more than the rest of
# a line's formatting.
_NO_USER_TEXT = frozenset({"ts", "level", "service", "logger", "trace_id", "span_id", "method", "code"})
_ENCODER = json.JSONEncoder(ensure_ascii=False)


class JsonLogFormatter(logging.Formatter):
    def __init__(self, service: str, redact: bool = True) -> None:
        super().__init__()
        self._service = service
        self._redactor = Redactor() if redact else None
        # The formatted second of the last line: strftime was a tenth of an access line's cost.
        self._second = (-1, "")

    def _timestamp(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second[0]:
            self._second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        return f"{self._second[1]}.{int(record.msecs):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": self._timestamp(record),
            "level": record.levelname,
            "service": self._service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            entry["trace_id"] = format(span_context.trace_id, "032x")
            entry["span_id"] = format(span_context.span_id, "016x")
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            entry.update(extra)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if self._redactor is not None:
            entry = {
                key: value if key in _NO_USER_TEXT else _redacted(value, self._redactor) for key, value in entry.items()
            }
        return _ENCODER.encode(entry)


def _redacted(value: object, redactor: Redactor) -> object:
    """String values redacted, in nested lists and dicts too; other values as they are."""
    if isinstance(value, str):
        return redactor(value)
    if isinstance(value, list | tuple):
        return [_redacted(item, redactor) for item in value]
    if isinstance(value, dict):
        return {key: _redacted(item, redactor) for key, item in value.items()}
    return value


def configure_logging(service: str, level: str = "INFO", redact: bool = True) -> None:
    # A record's caller frame, thread and process are never written by the JSON formatter; not
    # collecting them is the logging HOWTO's "Optimization" advice and a fifth of an access line.
    logging._srcfile = None  # documented there, though underscored
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonLogFormatter(service, redact))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiokafka and grpc are chatty at INFO; their warnings still show.
    for noisy in ("aiokafka", "kafka", "grpc._cython"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
