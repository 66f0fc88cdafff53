"""Finds personal data (phone numbers, e-mail addresses) in free text."""

from __future__ import annotations

import re

import phonenumbers

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Long digit runs are document, card or account numbers often enough to treat as PD.
LONG_DIGITS = re.compile(r"\d(?:[\s-]?\d){6,}")


def find_contacts(text: str) -> list[tuple[int, int, str]]:
    """Phone numbers and e-mail addresses in ``text``: (start, end, field), in order."""
    found = [(m.start(), m.end(), "email") for m in EMAIL.finditer(text)]
    found += [(m.start, m.end, "phone") for m in phonenumbers.PhoneNumberMatcher(text, "RU")]
    kept: list[tuple[int, int, str]] = []
    for start, end, field in sorted(found):
        if not kept or start >= kept[-1][1]:
            kept.append((start, end, field))
    return kept


def mask(text: str, spans: list[tuple[int, int, str]], placeholder: str = "[скрыто]") -> str:
    for start, end, _ in reversed(spans):
        text = text[:start] + placeholder + text[end:]
    return text


def find_pd(text: str) -> list[tuple[int, int]]:
    """Spans of ``text`` that look like PD values (contacts, long digit runs), merged."""
    spans = [(start, end) for start, end, _ in find_contacts(text)]
    spans += [m.span() for m in LONG_DIGITS.finditer(text)]
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def contains_pd(text: str) -> bool:
    return bool(find_pd(text))
