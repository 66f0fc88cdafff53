"""The leak register (152-FZ Art. 21 p.3.1): an unlawful transfer of or access to PD is reported
to Roskomnadzor within 24 hours, and the results of the investigation within 72 hours.

The DPO records the facts once; the console counts both deadlines, shows the fine tier the
affected counts fall in (KoAP 13.11 as amended from 30 May 2025), and writes both notices.
Each affected subject's processing log shows the incident.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import msgspec

from okno.platform import database
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action, ActorKind
from okno.platform.processing_log.schemas import LogEntry
from okno.platform.settings import get_settings
from okno.platform.subjects.fields import FIELDS, Category
from okno.platform.web.timefmt import msk

FIRST_NOTICE = timedelta(hours=24)
SECOND_NOTICE = timedelta(hours=72)


class IncidentIn(msgspec.Struct, frozen=True, kw_only=True):
    detected_at: datetime
    summary: str
    causes: str = ""
    harm: str = ""
    measures: str = ""
    contact_person: str
    fields: tuple[str, ...]
    conversations: tuple[int, ...] = ()  # the affected, by conversation; or by field held
    everyone_with_fields: bool = False


def fine_tier(subjects: int, fields: list[str] | tuple[str, ...]) -> str:
    """The KoAP 13.11 tier the leak falls in (p.12–15; check against the current text)."""
    categories = {FIELDS[name].category for name in fields if name in FIELDS}
    if Category.BIOMETRIC in categories:
        return "биометрические данные: от 15 до 20 млн ₽ (ч. 15 ст. 13.11 КоАП)"
    if Category.SPECIAL in categories:
        return "специальные категории: от 10 до 15 млн ₽ (ч. 14 ст. 13.11 КоАП)"
    if subjects > 100_000:
        return "более 100 000 субъектов: от 10 до 15 млн ₽ (ч. 12 ст. 13.11 КоАП)"
    if subjects > 10_000:
        return "от 10 000 до 100 000 субъектов: от 5 до 10 млн ₽ (ч. 12 ст. 13.11 КоАП)"
    if subjects >= 1_000:
        return "от 1 000 до 10 000 субъектов: от 3 до 5 млн ₽ (ч. 12 ст. 13.11 КоАП)"
    return (
        "менее 1 000 субъектов: размер утечки ниже порогов ч. 12 ст. 13.11 КоАП; за неуведомление"
        " Роскомнадзора — от 1 до 3 млн ₽ (ч. 10 ст. 13.11 КоАП)"
    )


async def record(staff_id: int, data: IncidentIn) -> int:
    """Register the incident and mark every affected subject's log, in one transaction."""
    unknown = [name for name in data.fields if name not in FIELDS]
    if unknown or not data.fields:
        raise ValueError("выберите затронутые категории данных из реестра полей")
    if not data.summary.strip() or not data.contact_person.strip():
        raise ValueError("нужны описание инцидента и контактное лицо")
    async with database.transaction():
        conn = database.connection()
        incident_id = await conn.fetchval(
            "INSERT INTO incident (detected_at, summary, causes, harm, measures, contact_person,"
            " fields, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            data.detected_at,
            data.summary.strip(),
            data.causes.strip(),
            data.harm.strip(),
            data.measures.strip(),
            data.contact_person.strip(),
            list(data.fields),
            staff_id,
        )
        subjects = await _affected(conn, data)
        await conn.executemany(
            "INSERT INTO incident_subject (incident_id, subject_id) VALUES ($1, $2)",
            [(incident_id, subject) for subject in subjects],
        )
        await processing_log.record(
            *[
                LogEntry(
                    action=Action.ACCESS,
                    actor_kind=ActorKind.SYSTEM,
                    subject_id=subject,
                    fields=tuple(data.fields),
                    legal_basis="152-fz:21.3.1",
                    reason=f"инцидент № {incident_id}: неправомерный доступ или передача",
                )
                for subject in subjects
            ]
        )
    return incident_id


async def _affected(conn: asyncpg.Connection, data: IncidentIn) -> list[uuid.UUID]:
    if data.everyone_with_fields:
        rows = await conn.fetch(
            "SELECT DISTINCT subject_id FROM subject_field WHERE field = ANY($1::text[])",
            list(data.fields),
        )
    else:
        rows = await conn.fetch(
            "SELECT DISTINCT subject_id FROM conversation WHERE id = ANY($1::bigint[])",
            list(data.conversations),
        )
    return [row["subject_id"] for row in rows]


async def get(incident_id: int) -> dict[str, Any] | None:
    async with database.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM incident WHERE id = $1", incident_id)
        if row is None:
            return None
        affected = await conn.fetchval(
            "SELECT count(*) FROM incident_subject WHERE incident_id = $1", incident_id
        )
    return {
        **dict(row),
        **_clock(row),
        "affected": affected,
        "tier": fine_tier(affected, row["fields"]),
    }


async def all_incidents() -> list[dict[str, Any]]:
    async with database.acquire() as conn:
        rows = await conn.fetch(
            "SELECT i.*, (SELECT count(*) FROM incident_subject s WHERE s.incident_id = i.id)"
            " AS affected FROM incident i ORDER BY detected_at DESC"
        )
    return [{**dict(r), **_clock(r), "tier": fine_tier(r["affected"], r["fields"])} for r in rows]


def _clock(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "first_due": row["detected_at"] + FIRST_NOTICE,
        "second_due": row["detected_at"] + SECOND_NOTICE,
    }


async def mark_notice(
    incident_id: int, which: str, investigation: str = "", responsible: str = ""
) -> None:
    """Record that a notice went to Roskomnadzor (the second with the investigation's results)."""
    async with database.acquire() as conn:
        if which == "first":
            await conn.execute(
                "UPDATE incident SET first_notice_at = coalesce(first_notice_at, now()) WHERE id"
                " = $1",
                incident_id,
            )
        else:
            await conn.execute(
                "UPDATE incident SET investigation = $2, responsible = $3,"
                " second_notice_at = coalesce(second_notice_at, now()) WHERE id = $1",
                incident_id,
                investigation.strip(),
                responsible.strip(),
            )


def first_notice(incident: dict[str, Any]) -> str:
    """The 24-hour notice (Art. 21 p.3.1 item 1), written from the recorded facts."""
    settings = get_settings()
    categories = ", ".join(FIELDS[name].label.lower() for name in incident["fields"])
    return "\n".join(
        [
            "Уведомление об инциденте: неправомерной или случайной передаче (предоставлении,"
            " распространении, доступе) персональных данных (п. 1 ч. 3.1 ст. 21 Федерального"
            " закона № 152-ФЗ).",
            f"Оператор: {settings.operator_name}, {settings.operator_address}.",
            f"1. Дата и время выявления инцидента: {msk(incident['detected_at'])}.",
            f"2. Описание инцидента: {incident['summary']}",
            f"3. Предполагаемые причины: {incident['causes'] or 'устанавливаются'}",
            f"4. Предполагаемый вред правам субъектов: {incident['harm'] or 'оценивается'}",
            f"5. Принятые меры по устранению последствий: {incident['measures'] or 'принимаются'}",
            f"6. Затронуто субъектов: {incident['affected']}; категории данных: {categories}.",
            f"7. Лицо, уполномоченное оператором на взаимодействие с Роскомнадзором по вопросам"
            f" инцидента: {incident['contact_person']}.",
        ]
    )


def second_notice(incident: dict[str, Any]) -> str:
    """The 72-hour notice (Art. 21 p.3.1 item 2): the results of the internal investigation."""
    settings = get_settings()
    return "\n".join(
        [
            "Дополнительное уведомление о результатах внутреннего расследования инцидента"
            " (п. 2 ч. 3.1 ст. 21 Федерального закона № 152-ФЗ).",
            f"Оператор: {settings.operator_name}, {settings.operator_address}.",
            f"Инцидент выявлен: {msk(incident['detected_at'])}; первичное уведомление:"
            f" {msk(incident['first_notice_at'])}.",
            f"1. Результаты внутреннего расследования: {incident['investigation'] or 'не внесены'}",
            "2. Сведения о лицах, действия которых стали причиной инцидента (при наличии):"
            f" {incident['responsible'] or 'не установлены'}",
            f"Затронуто субъектов: {incident['affected']}.",
            f"Контактное лицо: {incident['contact_person']}.",
        ]
    )
