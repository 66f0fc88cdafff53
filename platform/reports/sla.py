"""Service-level targets: how soon a conversation gets its first answer and its resolution,
per team or topic (a topic's target wins over its team's), in working minutes of the team's
hours (``okno.platform.hours``: the schedule and the production calendar).

The clock starts when the conversation was created or last reopened. A target is breached
when the answer (or the resolution) came after its due time, or has not come and the due
time has passed. A team without hours works round the clock, so its minutes are plain ones.
An open conversation's state (``Checker.state``) is the one definition the operator's lists
and the monitor both show. Every worker keeps the policies in memory (``shared_cache``): the
hub reads them for each summary it sends.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import msgspec

from okno.platform import clock, database, shared_cache
from okno.platform.audit import service as audit
from okno.platform.errors import NotFound, Refused
from okno.platform.hours import service as hours
from okno.platform.reports import queries
from okno.platform.reports.tables import SlaPolicy
from okno.platform.teams.tables import Team, Topic

# A week of working minutes: beyond it a target is a typo, not a service level.
MAX_MINUTES = 7 * 24 * 60
CACHE = "sla_policy"


class SlaError(Refused):
    """Targets that cannot be saved; the message says why (in Russian)."""


class Target(msgspec.Struct, frozen=True):
    first_response_minutes: int | None = None
    resolution_minutes: int | None = None

    def as_audit(self) -> dict[str, Any]:
        return {
            "первый ответ, мин": self.first_response_minutes,
            "решение, мин": self.resolution_minutes,
        }


class Policies(msgspec.Struct, frozen=True):
    by_team: dict[int, Target]
    by_topic: dict[int, Target]

    def first_response(self, team_id: int | None, topic_id: int | None) -> int | None:
        return self._minutes(team_id, topic_id, "first_response_minutes")

    def resolution(self, team_id: int | None, topic_id: int | None) -> int | None:
        return self._minutes(team_id, topic_id, "resolution_minutes")

    def _minutes(self, team_id: int | None, topic_id: int | None, which: str) -> int | None:
        for target in (self.by_topic.get(topic_id or 0), self.by_team.get(team_id or 0)):
            if target is not None and getattr(target, which) is not None:
                return int(getattr(target, which))
        return None


class PolicyRow(msgspec.Struct, frozen=True):
    """One line of the SLA page: a team or a topic and its targets."""

    kind: str  # team or topic
    id: int
    name: str
    target: Target


async def _load() -> Policies:
    rows = await SlaPolicy.select().run()
    by_team, by_topic = {}, {}
    for row in rows:
        target = Target(row["first_response_minutes"], row["resolution_minutes"])
        if row["team_id"] is not None:
            by_team[row["team_id"]] = target
        else:
            by_topic[row["topic_id"]] = target
    return Policies(by_team, by_topic)


_cache: shared_cache.Shared[Policies] = shared_cache.Shared(CACHE, _load)


async def policies() -> Policies:
    return await _cache.get()


async def page_rows() -> list[PolicyRow]:
    """Every active team and topic with its targets (empty where none is set)."""
    current = await policies()
    teams = (
        await Team.select(Team.id, Team.name)
        .where(Team.archived_at.is_null())
        .order_by(Team.name)
        .run()
    )
    topics = (
        await Topic.select(Topic.id, Topic.title)
        .where(Topic.active == True)  # noqa: E712 (the builder's column comparison)
        .order_by(Topic.position)
        .run()
    )
    return [
        PolicyRow("team", t["id"], t["name"], current.by_team.get(t["id"], Target())) for t in teams
    ] + [
        PolicyRow("topic", t["id"], t["title"], current.by_topic.get(t["id"], Target()))
        for t in topics
    ]


def _minutes(value: str, label: str) -> int | None:
    text = value.strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_MINUTES:
        raise SlaError(f"{label}: целое число минут от 1 до {MAX_MINUTES}, или пусто")
    return int(text)


async def save(actor: audit.Actor, kind: str, key: int, first: str, resolution: str) -> Target:
    """Set (or clear, with both empty) the targets of a team or topic, with its audit entry."""
    after = Target(_minutes(first, "Первый ответ"), _minutes(resolution, "Решение"))
    row = next((r for r in await page_rows() if r.kind == kind and r.id == key), None)
    if row is None:
        raise NotFound("нет такой команды или направления")
    if row.target == after:
        return after
    column = SlaPolicy.team_id if kind == "team" else SlaPolicy.topic_id
    async with database.transaction():
        await SlaPolicy.delete().where(column == key).run()
        if after != Target():
            await SlaPolicy.insert(
                SlaPolicy(
                    team_id=key if kind == "team" else None,
                    topic_id=key if kind == "topic" else None,
                    first_response_minutes=after.first_response_minutes,
                    resolution_minutes=after.resolution_minutes,
                )
            ).run()
        await audit.record(
            actor,
            audit.Entity.TEAM if kind == "team" else audit.Entity.TOPIC,
            row.name,
            "цели SLA",
            row.target.as_audit(),
            after.as_audit(),
        )
    await shared_cache.announce(CACHE)
    return after


class SlaState(msgspec.Struct, frozen=True):
    """An open conversation against its targets (docs/protocol.md, ``Conversation.sla``): the
    first answer's due time while none came since the clock started, the resolution's while
    it is open, and whether either has passed."""

    first_response_due: datetime | None = None
    resolution_due: datetime | None = None
    first_response_breached: bool = False
    resolution_breached: bool = False

    def breach(self) -> tuple[str, datetime] | None:
        """The target passed (the first answer's before the resolution's) and its due time."""
        if self.first_response_breached and self.first_response_due is not None:
            return "first_response", self.first_response_due
        if self.resolution_breached and self.resolution_due is not None:
            return "resolution", self.resolution_due
        return None


class Checker:
    """Due times by the teams' hours; made once per page, it reads the policies and hours once."""

    def __init__(self, policies: Policies, schedules: dict[int, hours.Schedule]) -> None:
        self.policies, self.schedules = policies, schedules

    @classmethod
    async def load(cls) -> Checker:
        return cls(await policies(), await hours.schedules())

    def due(self, team_id: int | None, started: datetime, minutes: int | None) -> datetime | None:
        if minutes is None:
            return None
        schedule = self.schedules.get(team_id or 0)
        if schedule is None:
            return started + timedelta(minutes=minutes)
        return schedule.after_working(started, minutes * 60)

    def first_response_due(
        self, team_id: int | None, topic_id: int | None, started: datetime
    ) -> datetime | None:
        return self.due(team_id, started, self.policies.first_response(team_id, topic_id))

    def resolution_due(
        self, team_id: int | None, topic_id: int | None, started: datetime
    ) -> datetime | None:
        return self.due(team_id, started, self.policies.resolution(team_id, topic_id))

    def state(
        self,
        team_id: int | None,
        topic_id: int | None,
        started: datetime | None,
        answered: bool,
        now: datetime,
    ) -> SlaState | None:
        """The SLA state of a conversation not resolved, whose clock started at ``started``
        (None: resolved, or no target applies)."""
        if started is None or not (self.policies.by_team or self.policies.by_topic):
            return None
        first = None if answered else self.first_response_due(team_id, topic_id, started)
        resolution = self.resolution_due(team_id, topic_id, started)
        if first is None and resolution is None:
            return None
        return SlaState(
            first,
            resolution,
            first is not None and first < now,
            resolution is not None and resolution < now,
        )


class OpenBreach(msgspec.Struct, frozen=True):
    """A conversation not resolved that is past a target now."""

    conversation_id: int
    team_id: int | None
    topic_id: int | None
    assignee_id: int | None
    what: str  # first_response or resolution
    due_at: datetime


async def open_breaches() -> list[OpenBreach]:
    checker = await Checker.load()
    if not checker.policies.by_team and not checker.policies.by_topic:
        return []
    now = clock.now()
    async with database.acquire() as conn:
        rows = await conn.fetch(queries.OPEN_FOR_SLA)
    breaches = []
    for row in rows:
        team, topic = row["team_id"], row["topic_id"]
        state = checker.state(team, topic, row["sla_started"], row["sla_answered"], now)
        breach = state.breach() if state is not None else None
        if breach is not None:
            breaches.append(OpenBreach(row["id"], team, topic, row["assignee_id"], *breach))
    return sorted(breaches, key=lambda b: b.due_at)
