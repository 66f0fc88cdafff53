"""What the mailings console shows: the newest mailings with their reports, and one mailing
with who it will reach, what it reached, and why deliveries failed."""

from __future__ import annotations

from typing import Any

import msgspec

from okno.platform.mailings.service import Audience, failures, preview, report
from okno.platform.mailings.tables import Mailing
from okno.platform.teams.tables import Topic


async def get(mailing_id: int) -> dict[str, Any] | None:
    """The mailing's row, if there is one."""
    return await Mailing.select().where(Mailing.id == mailing_id).first().run()


class Overview(msgspec.Struct, frozen=True):
    mailings: list[dict[str, Any]]  # the newest, each with its ``report``
    topics: list[dict[str, Any]]  # the active topics an audience can name


async def overview(limit: int = 100) -> Overview:
    """The mailings page: the newest mailings with their reports, and the topics to choose."""
    rows = await (
        Mailing.select(
            Mailing.id, Mailing.title, Mailing.status, Mailing.scheduled_at, Mailing.created_at
        )
        .order_by(Mailing.id, ascending=False)
        .limit(limit)
        .run()
    )
    topics = await (
        Topic.select(Topic.slug, Topic.title)
        .where(Topic.active.eq(True))
        .order_by(Topic.position)
        .run()
    )
    return Overview([{**row, "report": await report(row["id"])} for row in rows], topics)


class Details(msgspec.Struct, frozen=True):
    mailing: dict[str, Any]
    links: list[dict[str, str]]
    preview: dict[str, Any] | None  # who it will reach, while it can still be (re)scheduled
    report: dict[str, int]
    failures: list[dict[str, Any]]


async def details(mailing_id: int) -> Details | None:
    """One mailing's page, or None if there is no such mailing."""
    mailing = await get(mailing_id)
    if mailing is None:
        return None
    audience = Audience(
        topics=tuple(mailing["topics"]),
        tags=tuple(mailing["tags"]),
        contacted_within_days=mailing["contacted_within_days"],
        email=mailing["email"],
    )
    return Details(
        mailing=mailing,
        links=msgspec.json.decode(mailing["links"]),
        preview=await preview(audience) if mailing["status"] in ("draft", "scheduled") else None,
        report=await report(mailing_id),
        failures=await failures(mailing_id),
    )
