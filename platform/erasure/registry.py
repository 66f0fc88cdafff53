"""Where a subject's PD lives, column by column: each area registers how to destroy it.

Destruction (okno.platform.erasure) runs every registered eraser in one transaction, then
verifies that none of the subject's values remain anywhere in the database. Every column of
the schema that can hold text, JSON, bytes or an array is declared here, exactly once:

- ``@eraser(area, columns=(...))``: the eraser destroys what these columns hold of the subject;
- ``scrubbed(columns, reason=...)``: free texts staff write about many people at once (an
  incident report, a canned reply); destruction replaces the subject's values wherever they
  occur in them;
- ``not_pd(columns, reason=...)``: the column never holds a subject's values (a field's name,
  a hash, a staff member's own account), with the reason.

``tests/test_erasure_registry.py`` walks ``information_schema`` and fails for a column that is
not declared, so an area that adds a column registers it in the same change. Registration is
done by the platform modules listed in ``AREAS`` (no UI module is needed for it).
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Awaitable, Callable

import asyncpg

# An eraser destroys what its area keeps of the subject (values, files) and returns how many
# items it destroyed, by kind, for the destruction act (e.g. {"сообщения": 12}).
Eraser = Callable[[asyncpg.Connection, uuid.UUID], Awaitable[dict[str, int]]]

ERASERS: dict[str, Eraser] = {}
# "table.column" -> how it is handled: "eraser:<area>", "scrubbed: <reason>", "not PD: <reason>".
COLUMNS: dict[str, str] = {}
SCRUBBED: list[str] = []  # "table.column" of text columns destruction scrubs of the values

# The platform modules that register erasers and declare columns when imported.
AREAS = (
    "okno.platform.erasure.areas",
    "okno.platform.selfservice.erasure",
    "okno.platform.reviews.service",
    "okno.platform.chat.special",
)


class RegistryError(RuntimeError):
    """A column declared twice, or in a form the registry does not know."""


def _declare(columns: tuple[str, ...], how: str) -> None:
    for column in columns:
        table, dot, name = column.partition(".")
        if not (table and dot and name):
            raise RegistryError(f"a column is declared as table.column: {column!r}")
        if COLUMNS.get(column, how) != how:
            raise RegistryError(f"{column} is declared twice: {COLUMNS[column]!r} and {how!r}")
        COLUMNS[column] = how


def eraser(area: str, *, columns: tuple[str, ...] = ()) -> Callable[[Eraser], Eraser]:
    """Register ``area``'s eraser; ``columns`` are the ones whose PD it destroys."""

    def register(function: Eraser) -> Eraser:
        ERASERS[area] = function
        _declare(columns, f"eraser:{area}")
        return function

    return register


def scrubbed(*columns: str, reason: str) -> None:
    """Text columns not tied to one subject; their values are replaced wherever they occur."""
    _declare(columns, f"scrubbed: {reason}")
    SCRUBBED.extend(column for column in columns if column not in SCRUBBED)


def not_pd(*columns: str, reason: str) -> None:
    """Columns that never hold a subject's values, and why."""
    if not reason.strip():
        raise RegistryError("a column declared as not PD needs the reason")
    _declare(columns, f"not PD: {reason}")


def load() -> dict[str, Eraser]:
    """Import every area that registers (idempotent); returns the erasers."""
    for name in AREAS:
        importlib.import_module(name)
    return ERASERS
