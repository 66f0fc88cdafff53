"""Teams, their members, and the topics a client picks: what routes a chat to whom.

An operator sees and is assigned only the conversations of their teams, so every rule here
decides who gets which chats. Each change is kept in the staff audit log, in its own
transaction.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import asyncpg
import msgspec
from piccolo.query.functions.aggregate import Max

from okno.platform import database
from okno.platform.audit import service as audit
from okno.platform.audit.service import Actor, Entity
from okno.platform.chat import notify
from okno.platform.errors import Refused
from okno.platform.staff.roles import Role
from okno.platform.staff.tables import StaffUser
from okno.platform.teams import queries
from okno.platform.teams.tables import Team, TeamMember, Topic

NAME_MAX = 60
TITLE_MAX = 80
SLUG_PATTERN = r"^[a-z0-9-]{1,40}$"
MEMBER_ROLES = (Role.OPERATOR, Role.SUPERVISOR)


class TeamsError(Refused):
    """A change of teams or topics that cannot be made; the message says why (in Russian)."""


class Assignment(StrEnum):
    ROUND_ROBIN = "round_robin"
    LEAST_LOADED = "least_loaded"
    MANUAL = "manual"

    @property
    def label(self) -> str:
        return ASSIGNMENT_LABELS[self]


ASSIGNMENT_LABELS = {
    Assignment.ROUND_ROBIN: "автоматически, по очереди",
    Assignment.LEAST_LOADED: "автоматически, наименее загруженному",
    Assignment.MANUAL: "вручную (только очередь)",
}


class TeamInfo(msgspec.Struct, frozen=True):
    id: int
    name: str
    archived_at: datetime | None
    is_default: bool
    member_ids: tuple[int, ...]


class TopicInfo(msgspec.Struct, frozen=True):
    id: int
    slug: str
    title: str
    team_id: int | None
    position: int
    active: bool
    assignment: Assignment


# Teams


async def list_teams() -> list[TeamInfo]:
    """Every team, active ones first, each with its members' staff ids."""
    teams = (
        await Team.select().order_by(Team.archived_at, ascending=False).order_by(Team.name).run()
    )
    members = await TeamMember.select(TeamMember.team_id, TeamMember.staff_id).run()
    by_team: dict[int, list[int]] = {}
    for row in members:
        by_team.setdefault(row["team_id"], []).append(row["staff_id"])
    return [
        TeamInfo(
            id=row["id"],
            name=row["name"],
            archived_at=row["archived_at"],
            is_default=row["is_default"],
            member_ids=tuple(sorted(by_team.get(row["id"], ()))),
        )
        for row in teams
    ]


async def get_team(team_id: int) -> TeamInfo:
    for team in await list_teams():
        if team.id == team_id:
            return team
    raise TeamsError("нет такой команды")


async def teams_of(staff_id: int) -> list[int]:
    rows = await TeamMember.select(TeamMember.team_id).where(TeamMember.staff_id == staff_id).run()
    return sorted(row["team_id"] for row in rows)


def _team_name(name: str) -> str:
    name = " ".join(name.split())
    if not 1 <= len(name) <= NAME_MAX:
        raise TeamsError(f"название команды: от 1 до {NAME_MAX} символов")
    return name


async def team_name(team_id: int) -> str | None:
    row = await Team.select(Team.name).where(Team.id == team_id).first().run()
    return row["name"] if row is not None else None


async def _locked_team(team_id: int) -> dict[str, Any]:
    # Reads and then writes in the caller's transaction: lock the row so two admins' changes
    # of one team apply one after the other, each audited against what it really replaced.
    row = (
        await Team.select(Team.id, Team.name, Team.archived_at, Team.is_default)
        .where(Team.id == team_id)
        .lock_rows()
        .first()
        .run()
    )
    if row is None:
        raise TeamsError("нет такой команды")
    return row


async def create_team(actor: Actor, name: str) -> int:
    name = _team_name(name)
    async with database.transaction():
        try:
            rows = await Team.insert(Team(name=name)).returning(Team.id).run()
        except asyncpg.UniqueViolationError:
            raise TeamsError(f"команда «{name}» уже есть") from None
        team_id = rows[0]["id"]
        await audit.record(actor, Entity.TEAM, name, "создана", None, {"name": name})
    return team_id


async def rename_team(actor: Actor, team_id: int, name: str) -> None:
    name = _team_name(name)
    async with database.transaction():
        before = await _locked_team(team_id)
        if before["name"] == name:
            return
        try:
            await Team.update({Team.name: name}).where(Team.id == team_id).run()
        except asyncpg.UniqueViolationError:
            raise TeamsError(f"команда «{name}» уже есть") from None
        await audit.record(
            actor, Entity.TEAM, name, "переименована", {"name": before["name"]}, {"name": name}
        )


async def archive_team(actor: Actor, team_id: int) -> None:
    """Archive a team: it takes no new chats; refused while it is the default or has topics."""
    async with database.transaction():
        before = await _locked_team(team_id)
        if before["archived_at"] is not None:
            return
        if before["is_default"]:
            raise TeamsError("это команда по умолчанию: сначала выберите другую")
        routed = await Topic.select(Topic.title).where(
            (Topic.team_id == team_id) & (Topic.active == True)  # noqa: E712
        )
        if routed:
            titles = ", ".join(f"«{row['title']}»" for row in routed)
            raise TeamsError(f"в команду направлены темы {titles}: сначала перенаправьте их")
        now = datetime.now(UTC)
        await Team.update({Team.archived_at: now}).where(Team.id == team_id).run()
        await audit.record(
            actor, Entity.TEAM, before["name"], "в архиве", {"archived": False}, {"archived": True}
        )


async def restore_team(actor: Actor, team_id: int) -> None:
    async with database.transaction():
        before = await _locked_team(team_id)
        if before["archived_at"] is None:
            return
        await Team.update({Team.archived_at: None}).where(Team.id == team_id).run()
        await audit.record(
            actor,
            Entity.TEAM,
            before["name"],
            "возвращена из архива",
            {"archived": True},
            {"archived": False},
        )


async def make_default(actor: Actor, team_id: int) -> None:
    """New operators join this team unless they are given another."""
    async with database.transaction():
        chosen = await _locked_team(team_id)
        if chosen["is_default"]:
            return
        if chosen["archived_at"] is not None:
            raise TeamsError("команда в архиве не может быть командой по умолчанию")
        previous = await Team.select(Team.id, Team.name).where(Team.is_default == True).run()  # noqa: E712
        await Team.update({Team.is_default: False}).where(Team.is_default == True).run()  # noqa: E712
        await Team.update({Team.is_default: True}).where(Team.id == team_id).run()
        await audit.record(
            actor,
            Entity.TEAM,
            chosen["name"],
            "команда по умолчанию",
            {"default": previous[0]["name"] if previous else None},
            {"default": chosen["name"]},
        )


async def manages(actor: Actor, team_id: int) -> bool:
    """Whether ``actor`` may change the team's members: an admin, or a supervisor in it."""
    async with database.acquire() as conn:
        return bool(await conn.fetchval(queries.MANAGES, actor.id, team_id))


async def _check_manages(actor: Actor, team_id: int) -> None:
    if actor.id is not None and not await manages(actor, team_id):
        raise TeamsError("старший оператор меняет состав только своих команд")


async def add_member(actor: Actor, team_id: int, staff_id: int) -> None:
    await _check_manages(actor, team_id)
    async with database.transaction():
        team = await _locked_team(team_id)
        if team["archived_at"] is not None:
            raise TeamsError("команда в архиве: в неё нельзя добавить сотрудника")
        await join_in_transaction(team_id, staff_id)
        await audit.record(
            actor,
            Entity.TEAM,
            team["name"],
            "добавлен участник",
            None,
            {"member": await _login(staff_id)},
        )


async def join_in_transaction(team_id: int, staff_id: int) -> None:
    """Put an operator or supervisor into a team, in the caller's transaction (the staff
    service calls it at creation)."""
    database.current_transaction()  # the membership commits with the caller's change
    account = (
        await StaffUser.select(StaffUser.role)
        .where(StaffUser.id == staff_id, StaffUser.disabled_at.is_null())
        .first()
        .run()
    )
    if account is None:
        raise TeamsError("нет такого сотрудника или он отключён")
    if account["role"] not in MEMBER_ROLES:
        raise TeamsError("в команды входят только операторы и старшие операторы")
    inserted = (
        await TeamMember.insert(TeamMember(team_id=team_id, staff_id=staff_id))
        .on_conflict(action="DO NOTHING")
        .returning(TeamMember.staff_id)
        .run()
    )
    if not inserted:
        raise TeamsError("сотрудник уже в этой команде")


async def remove_member(actor: Actor, team_id: int, staff_id: int) -> None:
    """Take someone out of a team: from now on they see neither its queue nor its chats."""
    await _check_manages(actor, team_id)
    async with database.transaction():
        team = await _locked_team(team_id)
        removed = (
            await TeamMember.delete()
            .where((TeamMember.team_id == team_id) & (TeamMember.staff_id == staff_id))
            .returning(TeamMember.staff_id)
            .run()
        )
        if not removed:
            raise TeamsError("сотрудник не состоит в этой команде")
        await notify.staff_changed_in(database.connection(), staff_id)
        await audit.record(
            actor,
            Entity.TEAM,
            team["name"],
            "удалён участник",
            {"member": await _login(staff_id)},
            None,
        )


async def _login(staff_id: int) -> str | None:
    row = await StaffUser.select(StaffUser.login).where(StaffUser.id == staff_id).first().run()
    return row["login"] if row is not None else None


async def team_id_for(team: int | str | None) -> int | None:
    """The id of an active team named (or numbered) ``team``; None asks for the default team."""
    if team is None:
        default = await Team.select(Team.id).where(Team.is_default == True).first().run()  # noqa: E712
        return default["id"] if default is not None else None
    named = Team.id == team if isinstance(team, int) else Team.name == team
    found = await Team.select(Team.id).where(named, Team.archived_at.is_null()).first().run()
    if found is None:
        raise TeamsError(f"нет действующей команды «{team}»")
    return found["id"]


# Topics


def _topic(row: dict[str, Any]) -> TopicInfo:
    return TopicInfo(**{**row, "assignment": Assignment(row["assignment"])})


async def list_topics() -> list[TopicInfo]:
    """Every topic in the order the client sees them; archived ones last."""
    rows = (
        await Topic.select()
        .order_by(Topic.active, ascending=False)
        .order_by(Topic.position, Topic.id)
    )
    return [_topic(row) for row in rows]


class TopicForm(msgspec.Struct, frozen=True):
    title: str
    team_id: int
    assignment: str


async def _checked(form: TopicForm) -> dict[str, Any]:
    title = " ".join(form.title.split())
    if not 1 <= len(title) <= TITLE_MAX:
        raise TeamsError(f"название темы: от 1 до {TITLE_MAX} символов")
    if form.assignment not in {a.value for a in Assignment}:
        raise TeamsError("выберите способ назначения из списка")
    active = Team.exists().where(Team.id == form.team_id, Team.archived_at.is_null())
    if not await active.run():
        raise TeamsError("выберите действующую команду")
    return {"title": title, "team_id": form.team_id, "assignment": form.assignment}


async def create_topic(actor: Actor, slug: str, form: TopicForm) -> int:
    slug = slug.strip().lower()
    if not re.fullmatch(SLUG_PATTERN, slug):
        raise TeamsError("код темы: латинские строчные буквы, цифры и дефис, до 40 символов")
    async with database.transaction():
        values = await _checked(form)
        highest = await Topic.select(Max(Topic.position, alias="last")).first().run()
        last = (highest["last"] if highest is not None else None) or 0
        try:
            rows = (
                await Topic.insert(
                    Topic(
                        slug=slug,
                        title=values["title"],
                        team_id=values["team_id"],
                        assignment=values["assignment"],
                        position=last + 1,
                    )
                )
                .returning(Topic.id)
                .run()
            )
        except asyncpg.UniqueViolationError:
            raise TeamsError(f"тема с кодом {slug} уже есть") from None
        topic_id = rows[0]["id"]
        await audit.record(actor, Entity.TOPIC, slug, "создана", None, values)
    return topic_id


async def _locked_topic(topic_id: int) -> dict[str, Any]:
    row = await Topic.select().where(Topic.id == topic_id).lock_rows().first().run()
    if row is None:
        raise TeamsError("нет такой темы")
    return row


async def update_topic(actor: Actor, topic_id: int, form: TopicForm) -> None:
    async with database.transaction():
        before = await _locked_topic(topic_id)
        values = await _checked(form)
        old = {name: before[name] for name in values}
        if old == values:
            return
        await Topic.update({getattr(Topic, k): v for k, v in values.items()}).where(
            Topic.id == topic_id
        )
        await audit.record(actor, Entity.TOPIC, before["slug"], "изменена", old, values)


async def move_topic(actor: Actor, topic_id: int, step: int) -> None:
    """Move a topic one place up (-1) or down (+1) among the active topics."""
    async with database.transaction():
        # Lock every topic: the order is one value spread over the rows.
        active = (
            await Topic.select(Topic.id, Topic.slug)
            .where(Topic.active == True)  # noqa: E712
            .order_by(Topic.position, Topic.id)
            .lock_rows()
            .run()
        )
        ids = [row["id"] for row in active]
        if topic_id not in ids:
            raise TeamsError("нет такой темы или она в архиве")
        old = ids.index(topic_id)
        new = min(max(old + step, 0), len(ids) - 1)
        if new == old:
            return
        before = list(ids)
        ids.insert(new, ids.pop(old))
        for position, tid in enumerate(ids, start=1):
            await Topic.update({Topic.position: position}).where(Topic.id == tid).run()
        await audit.record(
            actor,
            Entity.TOPIC,
            next(row["slug"] for row in active if row["id"] == topic_id),
            "порядок",
            {"position": before.index(topic_id) + 1},
            {"position": new + 1},
        )


async def set_topic_active(actor: Actor, topic_id: int, active: bool) -> None:
    """Archive a topic (clients no longer see its button) or bring it back."""
    async with database.transaction():
        before = await _locked_topic(topic_id)
        if before["active"] == active:
            return
        if active:
            await _checked(TopicForm(before["title"], before["team_id"] or 0, before["assignment"]))
        await Topic.update({Topic.active: active}).where(Topic.id == topic_id)
        await audit.record(
            actor,
            Entity.TOPIC,
            before["slug"],
            "возвращена из архива" if active else "в архиве",
            {"active": before["active"]},
            {"active": active},
        )
