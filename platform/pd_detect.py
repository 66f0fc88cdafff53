"""Finds personal data (phone numbers, e-mail addresses) in free text."""

from __future__ import annotations

import re

import phonenumbers

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Long digit runs are document, card or account numbers often enough to treat as PD.
LONG_DIGITS = re.compile(r"\d(?:[\s-]?\d){6,}")


def find_pd(text: str) -> list[tuple[int, int]]:
    """Spans of ``text`` that look like PD values, sorted and merged."""
    spans = [m.span() for m in EMAIL.finditer(text)]
    spans += [(m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(text, "RU")]
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
