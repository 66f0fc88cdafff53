"""Where a subject's PD lives, column by column: each feature registers how to destroy it.

Destruction (okno.platform.erasure) runs every registered eraser in one transaction, then
verifies that none of the subject's values remain anywhere in the database. Every column of
the schema that can hold text, JSON, bytes or an array is declared, exactly once, by the
feature whose Table it is (its ``erasure.py``):

- ``@eraser(area, columns=(...))``: the eraser destroys what these columns hold of the subject;
- ``scrubbed(columns, reason=...)``: free texts staff write about many people at once (an
  incident report, a canned reply); destruction replaces the subject's values wherever they
  occur in them;
- ``not_pd(columns, reason=...)``: the column never holds a subject's values (a field's name,
  a hash, a staff member's own account), with the reason.

``tests/test_erasure_registry.py`` walks ``information_schema`` and fails for a column that is
not declared, so a feature that adds a column registers it in the same change. The declaring
modules are those each feature's ``piccolo_app.py`` names in ``ERASURE``; ``load`` imports them
through Piccolo's app registry, so no UI module is needed for it.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Awaitable, Callable

import asyncpg

from okno.platform.piccolo_conf import APP_REGISTRY

# An eraser destroys what its area keeps of the subject (values, files) and returns how many
# items it destroyed, by kind, for the destruction act (e.g. {"сообщения": 12}).
Eraser = Callable[[asyncpg.Connection, uuid.UUID], Awaitable[dict[str, int]]]

ERASERS: dict[str, Eraser] = {}
# "table.column" -> how it is handled: "eraser:<area>", "scrubbed: <reason>", "not PD: <reason>".
COLUMNS: dict[str, str] = {}
SCRUBBED: list[str] = []  # "table.column" of text columns destruction scrubs of the values

# What a destroyed value becomes in a text that stays (a request's answer, a shared text).
REDACTED = "[удалено]"

# The reasons several features give for their columns.
VOCABULARY = "okno's vocabulary, ids and counts: kinds, statuses, field names, document links"
OPERATORS_OWN = "the operator's own documents and settings, the same for every subject"
STAFF_OWN = "staff's own accounts and roles, not a data subject's"
STAFF_TEXT = "staff's free text about many subjects; the subject's values in it become «[удалено]»"


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


def positive(counts: dict[str, int]) -> dict[str, int]:
    """An eraser's counts without the kinds it found nothing of."""
    return {kind: count for kind, count in counts.items() if count}


def declaring_modules() -> list[str]:
    """The modules every feature's ``piccolo_app.py`` names in ``ERASURE``, in the order of
    Piccolo's app registry."""
    return [name for app in APP_REGISTRY.apps for name in importlib.import_module(app).ERASURE]


def load() -> dict[str, Eraser]:
    """Import every declaring module (idempotent); returns the erasers in the order of their
    modules in ``declaring_modules`` (and of their declaration within one), whichever was
    imported first, so that every process lists an act's items alike."""
    modules = declaring_modules()
    for name in modules:
        importlib.import_module(name)
    rank = {name: position for position, name in enumerate(modules)}
    unnamed = sorted(area for area, function in ERASERS.items() if function.__module__ not in rank)
    if unnamed:
        raise RegistryError(f"erasers of modules no piccolo_app names in ERASURE: {unnamed}")
    return dict(sorted(ERASERS.items(), key=lambda item: rank[item[1].__module__]))
