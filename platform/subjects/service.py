"""Reading a subject's personal data under the rules every feature shares."""

from __future__ import annotations

import uuid

import asyncpg
import msgspec

from okno.platform.subjects import queries


class FieldValue(msgspec.Struct, frozen=True):
    field: str  # a name from okno.platform.subjects.fields.FIELDS
    value: str


async def visible_fields(conn: asyncpg.Connection, subject_id: uuid.UUID) -> list[FieldValue]:
    """The subject's fields staff may see (``queries.VISIBLE_FIELDS``), by name. Showing them is an
    access the caller records in the processing log, on the same connection."""
    rows = await conn.fetch(queries.VISIBLE_FIELDS, subject_id)
    return [FieldValue(row["field"], row["value"]) for row in rows]
