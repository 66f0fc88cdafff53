"""The leak register (152-FZ Art. 21 p.3.1): an unlawful transfer of or access to PD is reported
to Roskomnadzor within 24 hours, and the results of the investigation within 72 hours.

The DPO records the facts once; the console counts both deadlines, shows the fine tier the
affected counts fall in (KoAP 13.11 as amended from 30 May 2025), and writes both notices.
Each affected subject's processing log shows the incident.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from piccolo.query.functions.aggregate import Count

from okno.platform import database
from okno.platform.errors import Refused
from okno.platform.incidents import queries
from okno.platform.incidents.schemas import IncidentIn, IncidentRecord
from okno.platform.incidents.tables import Incident, IncidentSubject
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action, ActorKind
from okno.platform.processing_log.schemas import LogEntry
from okno.platform.settings import get_settings
from okno.platform.subjects.fields import FIELDS, Category
from okno.platform.subjects.tables import SubjectField
from okno.platform.web.timefmt import msk

FIRST_NOTICE = timedelta(hours=24)
SECOND_NOTICE = timedelta(hours=72)


class IncidentError(Refused):
    """An incident that cannot be recorded as given; the message says why (in Russian)."""


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
        raise IncidentError("выберите затронутые категории данных из реестра полей")
    if not data.summary.strip() or not data.contact_person.strip():
        raise IncidentError("нужны описание инцидента и контактное лицо")
    async with database.transaction():
        incident = Incident(
            detected_at=data.detected_at,
            summary=data.summary.strip(),
            causes=data.causes.strip(),
            harm=data.harm.strip(),
            measures=data.measures.strip(),
            contact_person=data.contact_person.strip(),
            fields=list(data.fields),
            created_by=staff_id,
        )
        incident_id = (await Incident.insert(incident).returning(Incident.id).run())[0]["id"]
        subjects = await _affected(data)
        if subjects:
            await IncidentSubject.insert(
                *[IncidentSubject(incident_id=incident_id, subject_id=s) for s in subjects]
            ).run()
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


async def _affected(data: IncidentIn) -> list[uuid.UUID]:
    """The subjects who hold any of the fields, or those of the conversations named."""
    if data.everyone_with_fields:
        rows = (
            await SubjectField.select(SubjectField.subject_id)
            .where(SubjectField.field.is_in(list(data.fields)))
            .distinct()
            .run()
        )
        return [row["subject_id"] for row in rows]
    named = await database.connection().fetch(
        queries.SUBJECTS_OF_CONVERSATIONS, list(data.conversations)
    )
    return [row["subject_id"] for row in named]


async def get(incident_id: int) -> IncidentRecord | None:
    row = await Incident.select().where(Incident.id == incident_id).first().run()
    if row is None:
        return None
    affected = await IncidentSubject.count().where(IncidentSubject.incident_id == incident_id)
    return _record(row, affected)


async def all_incidents() -> list[IncidentRecord]:
    """The register, the latest detected first."""
    rows = await Incident.select().order_by(Incident.detected_at, ascending=False).run()
    counts = await IncidentSubject.select(
        IncidentSubject.incident_id, Count(alias="affected")
    ).group_by(IncidentSubject.incident_id)
    affected = {row["incident_id"]: row["affected"] for row in counts}
    return [_record(row, affected.get(row["id"], 0)) for row in rows]


def _record(row: dict[str, Any], affected: int) -> IncidentRecord:
    return IncidentRecord(
        **{**row, "fields": tuple(row["fields"])},
        affected=affected,
        tier=fine_tier(affected, row["fields"]),
        first_due=row["detected_at"] + FIRST_NOTICE,
        second_due=row["detected_at"] + SECOND_NOTICE,
    )


async def mark_notice(
    incident_id: int,
    which: str,
    investigation: str = "",
    responsible: str = "",
) -> None:
    """Record that a notice went to Roskomnadzor (the second with the investigation's results);
    a notice's time, once recorded, stays."""
    now = database.NOW
    async with database.transaction():
        if which == "first":
            await Incident.update({Incident.first_notice_at: now}).where(
                Incident.id == incident_id, Incident.first_notice_at.is_null()
            )
            return
        await Incident.update(
            {
                Incident.investigation: investigation.strip(),
                Incident.responsible: responsible.strip(),
            }
        ).where(Incident.id == incident_id)
        await Incident.update({Incident.second_notice_at: now}).where(
            Incident.id == incident_id, Incident.second_notice_at.is_null()
        )


def first_notice(incident: IncidentRecord) -> str:
    """The 24-hour notice (Art. 21 p.3.1 item 1), written from the recorded facts."""
    settings = get_settings()
    categories = ", ".join(FIELDS[name].label.lower() for name in incident.fields)
    return "\n".join(
        [
            "Уведомление об инциденте: неправомерной или случайной передаче (предоставлении,"
            " распространении, доступе) персональных данных (п. 1 ч. 3.1 ст. 21 Федерального"
            " закона № 152-ФЗ).",
            f"Оператор: {settings.operator_name}, {settings.operator_address}.",
            f"1. Дата и время выявления инцидента: {msk(incident.detected_at)}.",
            f"2. Описание инцидента: {incident.summary}",
            f"3. Предполагаемые причины: {incident.causes or 'устанавливаются'}",
            f"4. Предполагаемый вред правам субъектов: {incident.harm or 'оценивается'}",
            f"5. Принятые меры по устранению последствий: {incident.measures or 'принимаются'}",
            f"6. Затронуто субъектов: {incident.affected}; категории данных: {categories}.",
            f"7. Лицо, уполномоченное оператором на взаимодействие с Роскомнадзором по вопросам"
            f" инцидента: {incident.contact_person}.",
        ]
    )


def second_notice(incident: IncidentRecord) -> str:
    """The 72-hour notice (Art. 21 p.3.1 item 2): the results of the internal investigation."""
    settings = get_settings()
    return "\n".join(
        [
            "Дополнительное уведомление о результатах внутреннего расследования инцидента"
            " (п. 2 ч. 3.1 ст. 21 Федерального закона № 152-ФЗ).",
            f"Оператор: {settings.operator_name}, {settings.operator_address}.",
            f"Инцидент выявлен: {msk(incident.detected_at)}; первичное уведомление:"
            f" {msk(incident.first_notice_at)}.",
            f"1. Результаты внутреннего расследования: {incident.investigation or 'не внесены'}",
            "2. Сведения о лицах, действия которых стали причиной инцидента (при наличии):"
            f" {incident.responsible or 'не установлены'}",
            f"Затронуто субъектов: {incident.affected}.",
            f"Контактное лицо: {incident.contact_person}.",
        ]
    )
