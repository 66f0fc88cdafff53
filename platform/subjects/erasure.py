"""What destruction erases of a subject's profile: the field rows, which hold nothing but
their values; and the profile's columns that hold no PD."""

from __future__ import annotations

import uuid

import asyncpg

from okno.platform.erasure.registry import VOCABULARY, eraser, not_pd, positive
from okno.platform.subjects import queries


@eraser("subjects", columns=("subject_field.value",))
async def erase_profile(conn: asyncpg.Connection, subject_id: uuid.UUID) -> dict[str, int]:
    """Profile fields are removed as rows: a field row holds nothing but its value."""
    removed = await conn.fetchval(queries.PROFILE_DELETE, subject_id)
    return positive({"поля профиля": removed})


not_pd("subject_field.field", "subject_field.purpose", "subject_field.source", reason=VOCABULARY)
