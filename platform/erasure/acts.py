"""Destruction acts and log extracts with the fields of RKN Order No. 179 (28.10.2022).

Act: (a) operator's name and address; (b) processor, if any; (c) information identifying the
subject; (d) who destroyed the PD (name, position) and their signature; (e) categories of PD;
(f) paper media; (g) the information system; (h) method; (i) reason; (j) date. Extract from the
event log: subject, categories, information system, reason, date (with the log rows).

Acts are stored apart from the data (no foreign key to the subject, a pseudonymous id only, no
destroyed value), are immutable in the database, and are purged after ``KEEP_YEARS``.

"Signature": the act names the staff account that ran the destruction and carries the SHA-256
of its canonical JSON. A qualified electronic signature is out of okno's scope: print the act
and sign it, or sign the JSON with your own signature tool.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec

from okno.platform.erasure import queries
from okno.platform.erasure.tables import DestructionAct
from okno.platform.settings import get_settings
from okno.platform.staff.roles import ROLE_LABELS, Role
from okno.platform.subjects.fields import CATEGORY_LABELS, FIELDS
from okno.platform.web.timefmt import MOSCOW

KEEP_YEARS = 3
INFORMATION_SYSTEM = "okno"
METHOD = (
    "в базе данных значения удалены (строки удалены или их поля заменены пометкой «[удалено]»,"
    " тексты сообщений — пометкой об уничтожении); после фиксации таблицы, в которых они были,"
    " перестроены командой VACUUM (FULL, ANALYZE): файлы таблиц и индексов записаны заново без"
    " прежних версий строк, прежние файлы усечены СУБД и удалены; файлы вложений и писем"
    " перезаписаны нулями и удалены; уничтожение проверено поиском значений по всем таблицам"
    " и файлам папки данных"
)
# What the method does not reach, said as it is (docs/dpo.md, «Что остаётся после уничтожения»).
RESIDUAL = {
    "wal": (
        "Журнал упреждающей записи PostgreSQL (pg_wal) хранит прежние значения, пока его"
        " сегменты не будут переиспользованы и перезаписаны (после контрольных точек, в пределах"
        " max_wal_size; на малонагруженном сервере это может занять часы и сутки); архив WAL,"
        " если он ведётся, — в течение срока хранения архива."
    ),
    "backups": (
        "Резервные копии, сделанные до уничтожения, содержат данные в течение срока их хранения,"
        " установленного оператором; okno их не изменяет."
    ),
    "restore": (
        "При восстановлении из резервной копии уничтожения, выполненные после её создания,"
        " повторяются до возобновления обработки: номера актов, идентификаторы субъектов и даты"
        " записываются в журнал уничтожений вне базы данных (destructions.jsonl в папке данных),"
        " команда «okno destruction reapply» уничтожает по нему повторно."
    ),
    "media": (
        "Перезапись файла не гарантирует стирания прежних блоков на SSD и в файловых системах"
        " с копированием при записи; для таких носителей применяйте шифрование диска."
    ),
}
# Categories that are not profile fields, by the item kind an eraser reports.
ITEM_CATEGORIES = {
    "метки диалога": ("tags", "Метки диалога, поставленные сотрудниками"),
    "отзывы": ("review_text", "Текст отзыва"),
    "письма в папке исходящих": ("letter", "Письма субъекту (адрес, код входа)"),
    "выгрузки данных": ("export", "Выгрузки «Моих данных»"),
    "ФИО в письменных запросах": ("requester_name", "ФИО из письменного запроса"),
    "документы в письменных запросах": (
        "requester_document",
        "Реквизиты документа, удостоверяющего личность (паспорт), из письменного запроса",
    ),
    "адреса в письменных запросах": ("requester_address", "Адрес для ответа из запроса"),
    "сведения в запросах субъекта": ("request_text", "Тексты и сведения запросов субъекта"),
    "причины недоставки рассылок": ("delivery_reason", "Ответы почтового сервера о доставке"),
    "значения в служебных текстах": (
        "staff_texts",
        "Упоминания в служебных текстах (инциденты, шаблоны ответов, рассылки)",
    ),
}
BINDING = (
    "Акт неизменяем в базе данных (триггер) и хранится 3 года. Его содержимое связано"
    " SHA-256 канонического JSON (поле sha256); строки журнала, на которые ссылается выписка,"
    " входят в цепочку хешей журнала обработки, голова которой закрепляется вне таблицы"
    " журнала (см. docs/processing-log.md)."
)
PAPER_MEDIA = "не использовались"
SIGNATURE_NOTE = (
    "Учётная запись сотрудника и SHA-256 канонического JSON акта. Электронная подпись в okno"
    " не ставится: распечатайте и подпишите акт или подпишите JSON своим средством подписи."
)


class Act(msgspec.Struct, frozen=True):
    id: int
    subject_id: uuid.UUID
    request_id: int | None
    scope: str
    act: dict[str, Any]
    extract: dict[str, Any]
    sha256: str
    destroyed_by: int | None
    created_at: datetime
    purge_after: datetime

    def document(self) -> dict[str, Any]:
        """The downloadable JSON: the act, the extract, and the act's digest."""
        return {"act": self.act, "extract": self.extract, "sha256": self.sha256}


def canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def digest(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(document)).hexdigest()


def purge_after(moment: datetime) -> datetime:
    try:
        return moment.replace(year=moment.year + KEEP_YEARS)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + KEEP_YEARS, day=28) + timedelta(days=1)


def categories(fields: list[str], items: dict[str, int] | None = None) -> list[dict[str, str]]:
    """(e): the profile fields destroyed, then what else the erasers destroyed (tags, review
    texts, the letter's name and passport, …)."""
    listed = [
        {
            "field": name,
            "label": FIELDS[name].label,
            "category": CATEGORY_LABELS[FIELDS[name].category],
        }
        for name in fields
    ]
    for kind, (name, label) in ITEM_CATEGORIES.items():
        if (items or {}).get(kind):
            listed.append({"field": name, "label": label, "category": "общие"})
    return listed


def who(actor: Any) -> dict[str, Any]:
    """(d) of the act: a staff member by name and position, or the system's retention job."""
    if actor is None:
        return {
            "kind": "system",
            "name": "информационная система okno (задание хранения)",
            "position": "автоматическое уничтожение по истечении срока",
            "account": None,
        }
    return {
        "kind": "staff",
        "staff_id": actor.id,
        "name": actor.display_name,
        "position": ROLE_LABELS[Role(actor.role)],
        "account": actor.login,
    }


async def store(
    conn: asyncpg.Connection,
    *,
    subject_id: uuid.UUID,
    request_id: int | None,
    scope: str,
    actor: Any,
    fields: list[str],
    items: dict[str, int],
    reason: str,
    legal_basis: str,
    identification: dict[str, Any],
    verification: dict[str, Any],
    log_rows: list[dict[str, Any]],
    at: datetime | None = None,
) -> Act:
    """Build the act and the extract, and store them in the caller's transaction (``conn`` is
    its connection)."""
    settings = get_settings()
    at = at or datetime.now(UTC)
    act_id = await conn.fetchval(queries.NEXT_ACT_ID)
    cats = categories(fields, items)
    date = {"utc": at.isoformat(), "msk": at.astimezone(MOSCOW).strftime("%d.%m.%Y %H:%M МСК")}
    act = {
        "title": "Акт об уничтожении персональных данных",
        "number": act_id,
        "operator": {"name": settings.operator_name, "address": settings.operator_address},
        "processor": settings.processor or None,
        "subject": {"id": str(subject_id), **identification},
        "destroyed_by": [who(actor)],
        "categories": cats,
        "items": items,
        "paper_media": PAPER_MEDIA,
        "information_system": INFORMATION_SYSTEM,
        "method": METHOD,
        "residual": RESIDUAL,
        "reason": reason,
        "legal_basis": legal_basis,
        "date": date,
        "request_id": request_id,
        "scope": "все персональные данные субъекта" if scope == "subject" else "отдельные поля",
        "verification": verification,
        "signature": {
            "account": who(actor)["account"],
            "method": "SHA-256 канонического JSON акта (поле sha256 рядом с актом)",
            "note": SIGNATURE_NOTE,
            "binding": BINDING,
        },
    }
    extract = {
        "title": "Выписка из журнала регистрации событий в информационной системе",
        "act_number": act_id,
        "subject": str(subject_id),
        "categories": cats,
        "information_system": INFORMATION_SYSTEM,
        "reason": reason,
        "date": date,
        "log_rows": log_rows,
    }
    sha = digest(act)
    stored = DestructionAct(
        id=act_id,
        subject_id=subject_id,
        request_id=request_id,
        scope=scope,
        act=json.dumps(act, ensure_ascii=False),
        extract=json.dumps(extract, ensure_ascii=False),
        sha256=sha,
        destroyed_by=actor.id if actor is not None else None,
        created_at=at,
        purge_after=purge_after(at),
    )
    rows = await DestructionAct.insert(stored).returning(*DestructionAct.all_columns()).run()
    return _act(rows[0])


def _act(row: dict[str, Any]) -> Act:
    values = dict(row)
    values["act"] = json.loads(values["act"])
    values["extract"] = json.loads(values["extract"])
    return Act(**values)


async def get(act_id: int) -> Act | None:
    row = await DestructionAct.select().where(DestructionAct.id == act_id).first().run()
    return _act(row) if row else None


async def listing(subject_id: uuid.UUID | None = None, limit: int = 200) -> list[Act]:
    """The newest acts first (only the subject's, if given)."""
    query = DestructionAct.select().order_by(DestructionAct.id, ascending=False).limit(limit)
    if subject_id is not None:
        query = query.where(DestructionAct.subject_id == subject_id)
    return [_act(row) for row in await query.run()]


async def made_for(request_id: int) -> list[Act]:
    """The acts a request's execution made, in order."""
    query = DestructionAct.select().where(DestructionAct.request_id == request_id)
    return [_act(row) for row in await query.order_by(DestructionAct.id).run()]


async def purge(now: datetime | None = None) -> int:
    """Delete the acts whose three years are over (the trigger refuses any earlier)."""
    moment = now or datetime.now(UTC)
    gone = await (
        DestructionAct.delete()
        .where(DestructionAct.purge_after <= moment)
        .returning(DestructionAct.id)
        .run()
    )
    return len(gone)


async def due_for_purge(now: datetime) -> int:
    """How many acts the next retention run will purge."""
    return await DestructionAct.count().where(DestructionAct.purge_after <= now).run()
