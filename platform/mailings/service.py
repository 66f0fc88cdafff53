"""Mailings (рассылки): advertising only to subjects whose consent for the channel is in force.

Here a mailing is composed, scheduled and reported on; ``sending`` delivers it (re-checking
consent at each delivery) and ``unsubscribe`` withdraws the consent from its button or link.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
import msgspec
from piccolo.columns.combination import Combinable

from okno.platform import database
from okno.platform.consent import service as consent
from okno.platform.errors import Refused
from okno.platform.mailings import queries
from okno.platform.mailings.tables import Mailing, MailingDelivery

PURPOSES = {"chat": "advertising-chat", "email": "advertising-email"}


class MailingError(Refused):
    """A request about mailings that cannot be done; the message is for the person who asked."""


class Audience(msgspec.Struct, frozen=True, kw_only=True):
    topics: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    contacted_within_days: int | None = None
    email: bool = False


async def audience_rows(conn: asyncpg.Connection, audience: Audience) -> list[asyncpg.Record]:
    """The subjects the audience names now, each with its conversation, whether it is blocked
    and whether it has an e-mail address."""
    return await conn.fetch(
        queries.AUDIENCE, list(audience.topics), list(audience.tags), audience.contacted_within_days
    )


async def preview(audience: Audience) -> dict[str, Any]:
    """How many match, and how many each channel reaches or excludes, and why."""
    async with database.acquire() as conn:
        rows = await audience_rows(conn, audience)
        counts: dict[str, dict[str, int]] = {}
        for channel in ("chat", "email") if audience.email else ("chat",):
            tally = {"will_receive": 0, "no_consent": 0, "blocked": 0, "no_email": 0}
            for row in rows:
                if row["blocked"]:
                    tally["blocked"] += 1
                elif channel == "email" and not row["has_email"]:
                    tally["no_email"] += 1
                elif await consent.active(conn, row["subject_id"], PURPOSES[channel]) is None:
                    tally["no_consent"] += 1
                else:
                    tally["will_receive"] += 1
            counts[channel] = tally
    return {"matching": len(rows), "channels": counts}


async def create(
    staff_id: int,
    title: str,
    body: str,
    audience: Audience,
    links: list[dict[str, str]],
    image_id: str | None = None,
) -> int:
    rows = (
        await Mailing.insert(
            Mailing(
                title=title,
                body=body,
                image_id=image_id,
                links=msgspec.json.encode(links).decode(),
                email=audience.email,
                topics=list(audience.topics),
                tags=list(audience.tags),
                contacted_within_days=audience.contacted_within_days,
                created_by=staff_id,
            )
        )
        .returning(Mailing.id)
        .run()
    )
    return int(rows[0]["id"])


async def schedule(mailing_id: int, at: datetime | None) -> None:
    """Send at ``at`` (now when None); only a draft or a scheduled mailing can be (re)scheduled."""
    done = (
        await Mailing.update(
            {Mailing.status: "scheduled", Mailing.scheduled_at: at or database.NOW}
        )
        .where((Mailing.id == mailing_id) & Mailing.status.is_in(["draft", "scheduled"]))
        .returning(Mailing.id)
        .run()
    )
    if not done:
        raise MailingError("эту рассылку уже нельзя запланировать")


async def cancel(mailing_id: int) -> None:
    await (
        Mailing.update({Mailing.status: "cancelled", Mailing.finished_at: database.NOW})
        .where((Mailing.id == mailing_id) & Mailing.status.is_in(["draft", "scheduled", "sending"]))
        .run()
    )


async def report(mailing_id: int) -> dict[str, int]:
    async with database.acquire() as conn:
        row = await database.fetch_one(conn, queries.REPORT, mailing_id)
    return dict(row)


async def failures(mailing_id: int) -> list[dict[str, Any]]:
    """Why deliveries failed or were skipped, with how many each time (for the staff page)."""
    async with database.acquire() as conn:
        rows = await conn.fetch(queries.FAILURES, mailing_id)
    return [dict(row) for row in rows]


def one_delivery(mailing_id: int, subject_id: uuid.UUID, channel: str) -> Combinable:
    """The one delivery of the mailing to the subject on the channel (its real key)."""
    return (
        (MailingDelivery.mailing_id == mailing_id)
        & (MailingDelivery.subject_id == subject_id)
        & (MailingDelivery.channel == channel)
    )
