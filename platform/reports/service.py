"""Reports over a period and the live monitor, for supervisors and admins.

Both read aggregates only: counts and durations by team, topic, operator and channel from
``conversation_event`` (written by reports_0001's triggers), ratings from ``review``, and the
queue and presence as they are now. No message text and no subject's field is read, so
opening a report is not an access to personal data; the conversations it lists are ids,
and opening one is the console's, logged there (docs/reports.md).
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import msgspec

from okno.platform import clock, database
from okno.platform.chat.compliance import Actor, entries
from okno.platform.errors import Refused
from okno.platform.hours.service import MOSCOW
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action
from okno.platform.reports import queries, sla
from okno.platform.reports.schemas import (
    Comment,
    Csat,
    Day,
    Figures,
    Filters,
    Missed,
    Monitor,
    MonitorStaff,
    Names,
    Occupancy,
    QueueLine,
    Report,
)
from okno.platform.settings import get_settings
from okno.platform.staff.tables import StaffUser
from okno.platform.teams.tables import Team, Topic

ZONE = ZoneInfo(MOSCOW)
# Longer periods are a query over years of events; a year is what a supervisor compares.
MAX_DAYS = 366
# The comments one «Показать комментарии» shows (and logs): a page a person reads.
MAX_COMMENTS = 200


class ReportError(Refused):
    """A period or filter that makes no report; the message says why (in Russian)."""


def period(start: date, end: date) -> tuple[datetime, datetime]:
    """The period's bounds as moments: from the first day's midnight to the one after the last
    day, Moscow time (the days the supervisor picked)."""
    if end < start:
        raise ReportError("конец периода раньше начала")
    if (end - start).days >= MAX_DAYS:
        raise ReportError(f"период не длиннее {MAX_DAYS} дней")
    return (
        datetime.combine(start, time(0), ZONE),
        datetime.combine(end + timedelta(days=1), time(0), ZONE),
    )


def default_days() -> tuple[date, date]:
    """The last seven days, today included."""
    today = clock.now().astimezone(ZONE).date()
    return today - timedelta(days=6), today


async def names() -> Names:
    """What the filters and tables call teams, topics and staff (no client's data)."""
    teams = await Team.select(Team.id, Team.name).order_by(Team.name).run()
    topics = await Topic.select(Topic.id, Topic.title).order_by(Topic.position).run()
    staff = (
        await StaffUser.select(StaffUser.id, StaffUser.display_name, StaffUser.login)
        .where(StaffUser.role.is_in(["operator", "supervisor", "admin"]))
        .order_by(StaffUser.display_name)
        .run()
    )
    return Names(
        teams={t["id"]: t["name"] for t in teams},
        topics={t["id"]: t["title"] for t in topics},
        staff={s["id"]: s["display_name"] or s["login"] for s in staff},
    )


def _figures(row: dict[str, object], breaches: tuple[int, int] = (0, 0)) -> Figures:
    values = {name: row[name] for name in Figures.__struct_fields__ if name in row}
    values["first_response_breaches"], values["resolution_breaches"] = breaches
    return msgspec.convert(values, Figures)


async def report(filters: Filters) -> Report:
    start, end = period(filters.start, filters.end)
    args = (
        start,
        end,
        filters.team_id,
        filters.topic_id,
        filters.staff_id,
        filters.channel,
    )
    async with database.acquire() as conn:
        rows = await conn.fetch(queries.breakdown(filters.dimension), *args)
        by_operator = (
            rows
            if filters.dimension == "operator"
            else await conn.fetch(queries.breakdown("operator"), *args)
        )
        daily = await conn.fetch(queries.DAILY, *args, MOSCOW)
        heat = await conn.fetch(queries.HEAT, *args, MOSCOW)
        ratings = await conn.fetch(queries.CSAT, *args)
        missed = await conn.fetch(queries.MISSED, *args)
        sla_events = await conn.fetch(queries.SLA_EVENTS, *args)
        async with conn.transaction():
            await conn.execute(queries.NO_JIT)
            presence = await conn.fetch(
                queries.OCCUPANCY,
                start,
                end,
                filters.staff_id,
                get_settings().presence_timeout_seconds,
            )
    checker = await sla.Checker.load()
    breaches = _breaches(checker, sla_events, filters.dimension)
    groups = _groups(rows, breaches)
    operators = _groups(by_operator, _breaches(checker, sla_events, "operator"))
    totals = [_figures(dict(row), breaches.get(None, (0, 0))) for row in rows if row["total"]]
    by_day = {row["day"]: Day(row["day"], row["created"], row["resolved"]) for row in daily}
    days = [
        by_day.get(filters.start + timedelta(days=n), Day(filters.start + timedelta(days=n)))
        for n in range((filters.end - filters.start).days + 1)
    ]
    grid = [[0] * 24 for _ in range(7)]
    for row in heat:
        grid[row["weekday"] - 1][row["hour"]] = row["created"]
    distribution = {row["rating"]: row["ratings"] for row in ratings}
    total = totals[0] if totals else Figures()
    csat = Csat(
        distribution=[distribution.get(stars, 0) for stars in range(1, 6)],
        comments=sum(row["comments"] for row in ratings),
        resolved=total.resolved,
    )
    return Report(
        filters=filters,
        total=total,
        groups=groups,
        operators=[(key, figures) for key, figures in operators if key is not None],
        days=days,
        heat=grid,
        csat=csat,
        missed=[Missed(r["conversation_id"], r["at"], r["seconds"]) for r in missed],
        occupancy=[msgspec.convert(dict(row), Occupancy) for row in presence],
    )


async def comments(staff_id: int, filters: Filters) -> list[Comment]:
    """The comments of the period's ratings, for a supervisor who asked to see them: each is a
    client's text, so each one shown is an access logged in the same transaction."""
    start, end = period(filters.start, filters.end)
    async with database.transaction():
        rows = await database.connection().fetch(
            queries.CSAT_COMMENTS,
            start,
            end,
            filters.team_id,
            filters.topic_id,
            filters.staff_id,
            filters.channel,
            MAX_COMMENTS,
        )
        await processing_log.record(
            *(
                entry
                for row in rows
                for entry in entries(
                    Actor.staff(staff_id),
                    row["subject_id"],
                    (Action.ACCESS,),
                    ("message_text",),
                    reason=f"комментарий к оценке в отчёте: диалог №{row['conversation_id']}",
                )
            )
        )
    return [Comment(r["conversation_id"], r["rating"], r["created_at"], r["body"]) for r in rows]


def _groups(
    rows: list, breaches: dict[str | None, tuple[int, int]]
) -> list[tuple[str | None, Figures]]:
    return [
        (row["key"], _figures(dict(row), breaches.get(row["key"], (0, 0))))
        for row in rows
        if not row["total"]
    ]


def _breaches(
    checker: sla.Checker, events: list, dimension: str
) -> dict[str | None, tuple[int, int]]:
    """Late first answers and resolutions, per group key and in total (key None)."""
    counts: dict[str | None, list[int]] = {None: [0, 0]}
    column = {"team": "team_id", "topic": "topic_id", "operator": "staff_id", "channel": "channel"}
    for event in events:
        team, topic, started = event["team_id"], event["topic_id"], event["started_at"]
        if event["kind"] == "response":
            due, slot = checker.first_response_due(team, topic, started), 0
        else:
            due, slot = checker.resolution_due(team, topic, started), 1
        if due is None or event["at"] <= due:
            continue
        value = event[column[dimension]]
        key = None if value is None else str(value)
        for bucket in {key, None}:
            counts.setdefault(bucket, [0, 0])[slot] += 1
    return {key: (late[0], late[1]) for key, late in counts.items()}


async def monitor() -> Monitor:
    """Who is online with how many chats against their capacity, what waits in each queue
    and for how long, and which open conversations are past their SLA now."""
    async with database.acquire() as conn:
        staff = await conn.fetch(queries.MONITOR_STAFF, get_settings().presence_timeout_seconds)
        queues = await conn.fetch(queries.MONITOR_QUEUES)
    breaches = await sla.open_breaches()
    over: dict[int, int] = {}
    for breach in breaches:
        if breach.assignee_id is not None:
            over[breach.assignee_id] = over.get(breach.assignee_id, 0) + 1
    return Monitor(
        at=clock.now(),
        staff=[
            MonitorStaff(
                row["id"],
                row["display_name"],
                row["presence"],
                row["chats"],
                row["max_chats"],
                over.get(row["id"], 0),
            )
            for row in staff
        ],
        queues=[
            QueueLine(row["team_id"], row["topic_id"], row["waiting"], math.floor(row["longest"]))
            for row in queues
        ],
        breaches=breaches,
    )
