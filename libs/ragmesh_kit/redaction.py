"""PII redaction: emails, phone numbers and payment card numbers become ``[email]``, ``[phone]`` and
``[card]`` before text reaches a prompt or a log line.

Tuned against false positives on ordinary text: dates (2024-01-15), versions (1.2.3), IP
addresses, times, plain counts and long ids stay. A card number is 13-19 digits (spaces or dashes
between groups allowed) starting 2-6 and passing the Luhn check; a phone number is either
international (``+`` and 8-15 digits) or North American with separators ((555) 123-4567,
555-123-4567, 555.123.4567; area code starting 2-9; digits separated by spaces only are
not taken for a phone number, so "300 400 5000 seats" stays).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EMAIL = "[email]"
PHONE = "[phone]"
CARD = "[card]"

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,63})@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
)
# 13-19 digits, single spaces or dashes allowed between digits; not part of a longer number.
_CARD = re.compile(r"(?<![\w.,/:+-])[2-6](?:[ -]?\d){12,18}(?![\w]|[.,/:-]\d)")
_INTERNATIONAL_PHONE = re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]?\d{1,5}){2,6}(?![\w]|[.-]\d)")
_NANP_PHONE = re.compile(
    r"(?<![\w.+/:-])(?:\(?[2-9]\d{2}\)[ ]?|[2-9]\d{2}(?P<sep>[-.]))\d{3}(?(sep)(?P=sep)|[-. ])\d{4}(?![\w]|[.:/-]\d)"
)


# Every card and phone number above holds at least 7 digits with only spaces, dots, dashes, "+" and
# parentheses between them: text without such a run has none, and skips those three patterns (one
# scan instead of three; most prompt text has no number that long).
_DIGIT_RUN = re.compile(r"\d(?:[ ().+-]*\d){6}")


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _digits(text: str) -> str:
    return "".join(char for char in text if char.isdigit())


def _card(match: re.Match[str]) -> str:
    digits = _digits(match.group(0))
    separators = {char for char in match.group(0) if not char.isdigit()}
    # Mixed separators ("4111 1111-1111") are not how cards are written.
    if len(separators) > 1 or not 13 <= len(digits) <= 19 or not luhn_valid(digits):
        return match.group(0)
    return CARD


def _international(match: re.Match[str]) -> str:
    return PHONE if 8 <= len(_digits(match.group(0))) <= 15 else match.group(0)


@dataclass(frozen=True)
class Redactor:
    """Replaces the kinds of PII that are switched on; ``Redactor()`` redacts all three."""

    emails: bool = True
    phones: bool = True
    cards: bool = True

    def __call__(self, text: str) -> str:
        if not text:
            return text
        numbers = (self.cards or self.phones) and _DIGIT_RUN.search(text) is not None
        if self.cards and numbers:
            text = _CARD.sub(_card, text)
        if self.emails and "@" in text:
            text = _EMAIL.sub(EMAIL, text)
        if self.phones and numbers:
            text = _INTERNATIONAL_PHONE.sub(_international, text)
            text = _NANP_PHONE.sub(PHONE, text)
        return text


def redact(text: str) -> str:
    """All kinds of PII redacted (``Redactor()`` as a function)."""
    return Redactor()(text)
