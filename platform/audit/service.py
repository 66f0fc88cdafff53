"""The staff audit log: every change of a setting, team, topic or account, who made it, old -> new.

Services call ``record`` inside the transaction of the change, so the trail and the change
commit together. Actions on a client's personal data go to the processing log instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

import msgspec

from okno.platform.audit.tables import StaffAudit

PAGE = 200


class Entity(StrEnum):
    SETTING = "setting"
    TEAM = "team"
    TOPIC = "topic"
    ACCOUNT = "account"
    CHANNEL = "channel"
    WEBHOOK = "webhook"
    CONVERSATION = "conversation"
    API_TOKEN = "api_token"  # noqa: S105 — an entity's name, not a secret

    @property
    def label(self) -> str:
        return ENTITY_LABELS[self]


ENTITY_LABELS = {
    Entity.SETTING: "Настройка",
    Entity.TEAM: "Команда",
    Entity.TOPIC: "Направление",
    Entity.ACCOUNT: "Сотрудник",
    Entity.CHANNEL: "Канал",
    Entity.WEBHOOK: "Вебхук",
    Entity.CONVERSATION: "Диалог",
    Entity.API_TOKEN: "API-токен",
}


class Actor(msgspec.Struct, frozen=True):
    """Who made a change: a staff account, or ``okno`` on the server's command line."""

    id: int | None
    login: str


COMMAND_LINE = Actor(id=None, login="командная строка")


class AuditEntry(msgspec.Struct, frozen=True):
    id: int
    at: datetime
    actor_login: str
    entity: Entity
    entity_key: str
    change: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    def changed(self) -> list[tuple[str, Any, Any]]:
        """Each field that differs, as (name, old, new)."""
        before, after = self.before or {}, self.after or {}
        names = list(dict.fromkeys([*before, *after]))
        return [(n, before.get(n), after.get(n)) for n in names if before.get(n) != after.get(n)]


async def record(
    actor: Actor,
    entity: Entity,
    key: str | int,
    change: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Append one entry; joins the caller's transaction when there is one."""
    await StaffAudit.insert(
        StaffAudit(
            actor_id=actor.id,
            actor_login=actor.login,
            entity=entity.value,
            entity_key=str(key),
            change=change,
            before=_json(before),
            after=_json(after),
        )
    ).run()


def _json(values: Mapping[str, Any] | None) -> str | None:
    return None if values is None else json.dumps(dict(values), ensure_ascii=False, default=str)


async def search(
    entity: Entity | None = None, actor: str = "", before_id: int | None = None
) -> list[AuditEntry]:
    """The newest entries first, a page at a time (``before_id`` is the cursor)."""
    query = StaffAudit.select().order_by(StaffAudit.id, ascending=False).limit(PAGE)
    if entity is not None:
        query = query.where(StaffAudit.entity == entity.value)
    if actor:
        query = query.where(StaffAudit.actor_login == actor)
    if before_id is not None:
        query = query.where(StaffAudit.id < before_id)
    rows = await query.run()
    return [
        AuditEntry(
            id=row["id"],
            at=row["at"],
            actor_login=row["actor_login"],
            entity=Entity(row["entity"]),
            entity_key=row["entity_key"],
            change=row["change"],
            before=_loaded(row["before"]),
            after=_loaded(row["after"]),
        )
        for row in rows
    ]


def _loaded(value: str | dict[str, Any] | None) -> dict[str, Any] | None:
    return json.loads(value) if isinstance(value, str) else value
