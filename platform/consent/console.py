"""What the consent console shows and changes: the documents' current versions, the purposes
with the fields they allow and how many consents are in force for each."""

from __future__ import annotations

from typing import Any

import msgspec

from okno.platform import database
from okno.platform.consent import documents, queries
from okno.platform.consent.tables import Purpose
from okno.platform.errors import Refused
from okno.platform.subjects.fields import FIELDS

MAX_RETENTION_DAYS = 36500


class PurposeError(Refused):
    """A purpose cannot be changed as asked; the message (Russian) says why."""


class Overview(msgspec.Struct, frozen=True):
    documents: list[documents.Version]
    purposes: list[dict[str, Any]]  # the purpose table's rows
    in_force: dict[str, int]  # purpose code -> consents in force


async def overview() -> Overview:
    purposes = await Purpose.select().order_by(Purpose.kind, Purpose.code).run()
    async with database.acquire() as conn:
        counts = await conn.fetch(queries.IN_FORCE_COUNTS)
    return Overview(
        documents=await documents.all_current(),
        purposes=purposes,
        in_force={row["purpose_code"]: row["count"] for row in counts},
    )


async def update_purpose(code: str, name: str, fields: list[str], retention_days: str) -> bool:
    """Change a purpose's name, allowed fields and retention term; False if there is none."""
    unknown = [field for field in fields if field not in FIELDS]
    if unknown or not name.strip() or not retention_days.isdigit():
        raise PurposeError("укажите название, срок хранения в днях и поля из реестра")
    days = int(retention_days)
    if not 1 <= days <= MAX_RETENTION_DAYS:
        raise PurposeError("срок хранения: от 1 до 36500 дней")
    updated = (
        await Purpose.update(
            {Purpose.name: name.strip()[:200], Purpose.fields: fields, Purpose.retention_days: days}
        )
        .where(Purpose.code == code)
        .returning(Purpose.code)
        .run()
    )
    return bool(updated)
