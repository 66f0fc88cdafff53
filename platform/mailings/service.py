"""Mailings (рассылки): advertising only to subjects whose consent for the channel is in force.

The audience is fixed when sending starts; each delivery then re-checks consent in the same
transaction that stores the message, so a withdrawal between scheduling and sending is honoured.
A delivery's chat message has a deterministic client id: a restart mid-mailing resumes with the
pending deliveries and can never send one twice. A letter is handed to the mail server inside
its delivery's transaction, with the delivery locked: it is ``delivered`` (and its ``use``
logged) only when the server accepted it, ``failed`` with the reason when it refused.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import uuid
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import asyncpg
import msgspec

from okno.platform import database, mail
from okno.platform.chat import buttons, notify, service
from okno.platform.chat.errors import ChatError
from okno.platform.consent import service as consent
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action, ActorKind
from okno.platform.processing_log.schemas import LogEntry
from okno.platform.secret_key import secret_key
from okno.platform.settings import get_settings

logger = logging.getLogger("okno.mailings")
PURPOSES = {"chat": "advertising-chat", "email": "advertising-email"}
DELIVERY_NAMESPACE = uuid.UUID("6f6b6e6f-6d61-696c-696e-670000000000")
UNSUBSCRIBE = "Отписаться"
UNSUBSCRIBE_PATH = "/unsubscribe/"


class MailingError(Exception):
    """A request about mailings that cannot be done; the message is for the person who asked."""


class Audience(msgspec.Struct, frozen=True, kw_only=True):
    topics: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    contacted_within_days: int | None = None
    email: bool = False


AUDIENCE = """
SELECT c.subject_id, c.id AS conversation_id, s.blocked_at IS NOT NULL AS blocked,
       EXISTS (SELECT 1 FROM subject_field f WHERE f.subject_id = c.subject_id AND f.field = 'email'
               AND f.blocked_at IS NULL) AS has_email
FROM conversation c JOIN subject s ON s.id = c.subject_id
LEFT JOIN topic t ON t.id = c.topic_id
WHERE s.destroyed_at IS NULL
  AND (cardinality($1::text[]) = 0 OR t.slug = ANY($1::text[]))
  AND (cardinality($2::text[]) = 0 OR c.tags && $2::text[])
  AND ($3::int IS NULL OR c.updated_at >= now() - make_interval(days => $3::int))
"""


async def _audience(conn: asyncpg.Connection, audience: Audience) -> list[asyncpg.Record]:
    return await conn.fetch(
        AUDIENCE, list(audience.topics), list(audience.tags), audience.contacted_within_days
    )


async def preview(audience: Audience) -> dict[str, Any]:
    """How many match, and how many each channel reaches or excludes, and why."""
    async with database.acquire() as conn:
        rows = await _audience(conn, audience)
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
    async with database.acquire() as conn:
        return await conn.fetchval(
            "INSERT INTO mailing (title, body, image_id, links, email, topics, tags,"
            " contacted_within_days, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            " RETURNING id",
            title,
            body,
            image_id,
            msgspec.json.encode(links).decode(),
            audience.email,
            list(audience.topics),
            list(audience.tags),
            audience.contacted_within_days,
            staff_id,
        )


async def schedule(mailing_id: int, at: datetime | None) -> None:
    """Send at ``at`` (now when None); only a draft or a scheduled mailing can be (re)scheduled."""
    async with database.acquire() as conn:
        done = await conn.fetchval(
            "UPDATE mailing SET status = 'scheduled', scheduled_at = coalesce($2, now())"
            " WHERE id = $1 AND status IN ('draft', 'scheduled') RETURNING id",
            mailing_id,
            at,
        )
    if done is None:
        raise ChatError("conflict", "эту рассылку уже нельзя запланировать")


async def cancel(mailing_id: int) -> None:
    async with database.acquire() as conn:
        await conn.execute(
            "UPDATE mailing SET status = 'cancelled', finished_at = now()"
            " WHERE id = $1 AND status IN ('draft', 'scheduled', 'sending')",
            mailing_id,
        )


async def report(mailing_id: int) -> dict[str, int]:
    async with database.acquire() as conn:
        row = await database.fetch_one(
            conn,
            "SELECT count(*) FILTER (WHERE d.status = 'delivered') AS delivered,"
            " count(*) FILTER (WHERE d.status = 'skipped') AS skipped,"
            " count(*) FILTER (WHERE d.status = 'pending') AS pending,"
            " count(*) FILTER (WHERE d.status = 'failed') AS failed,"
            " count(*) FILTER (WHERE d.unsubscribed_at IS NOT NULL) AS unsubscribed,"
            " count(*) FILTER (WHERE d.channel = 'chat' AND d.status = 'delivered'"
            "   AND c.client_read_seq >= d.message_seq) AS read"
            " FROM mailing_delivery d LEFT JOIN conversation c ON c.id = d.conversation_id"
            " WHERE d.mailing_id = $1",
            mailing_id,
        )
    return dict(row)


# ---------------------------------------------------------------- sending


async def run_due(max_deliveries: int = 1000) -> int:
    """Start due mailings and deliver what is pending, throttled; returns deliveries made."""
    await _start_due()
    rate = get_settings().mailing_rate
    made = 0
    while made < max_deliveries:
        if not await _deliver_one():
            break
        made += 1
        await asyncio.sleep(1 / rate)
    await _finish_sent()
    return made


async def _start_due() -> None:
    async with database.transaction():
        conn = database.connection()
        due = await conn.fetch(
            "SELECT id, email, topics, tags, contacted_within_days FROM mailing"
            " WHERE status = 'scheduled' AND scheduled_at <= now() FOR UPDATE SKIP LOCKED"
        )
        for mailing in due:
            audience = Audience(
                topics=tuple(mailing["topics"]),
                tags=tuple(mailing["tags"]),
                contacted_within_days=mailing["contacted_within_days"],
                email=mailing["email"],
            )
            rows = await _audience(conn, audience)
            channels = ("chat", "email") if audience.email else ("chat",)
            await conn.executemany(
                "INSERT INTO mailing_delivery (mailing_id, subject_id, channel, conversation_id)"
                " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                [
                    (mailing["id"], r["subject_id"], ch, r["conversation_id"])
                    for r in rows
                    for ch in channels
                ],
            )
            await conn.execute(
                "UPDATE mailing SET status = 'sending', started_at = now() WHERE id = $1",
                mailing["id"],
            )


async def _deliver_one() -> bool:
    """One pending delivery, in one transaction with its message and log row."""
    changed: tuple[int, int] | None = None
    async with database.transaction():
        conn = database.connection()
        delivery = await conn.fetchrow(
            "SELECT d.mailing_id, d.subject_id, d.channel, d.conversation_id, m.title, m.body,"
            " m.links, m.image_id, s.blocked_at IS NOT NULL OR s.destroyed_at IS NOT NULL AS"
            " unreachable"
            " FROM mailing_delivery d JOIN mailing m ON m.id = d.mailing_id AND m.status ="
            " 'sending'"
            " JOIN subject s ON s.id = d.subject_id WHERE d.status = 'pending'"
            " ORDER BY d.mailing_id LIMIT 1 FOR UPDATE OF d SKIP LOCKED"
        )
        if delivery is None:
            return False
        key = (delivery["mailing_id"], delivery["subject_id"], delivery["channel"])
        purpose = PURPOSES[delivery["channel"]]
        given = await consent.active(conn, delivery["subject_id"], purpose)
        if given is None or delivery["unreachable"]:
            reason = (
                "нет действующего согласия" if given is None else "данные субъекта заблокированы"
            )
            await conn.execute(
                "UPDATE mailing_delivery SET status = 'skipped', reason = $4"
                " WHERE mailing_id = $1 AND subject_id = $2 AND channel = $3",
                *key,
                reason,
            )
            return True
        seq = None
        fields: tuple[str, ...] = ()
        actions = [Action.USE]
        if delivery["channel"] == "chat":
            sent = await service.bot_message_in_transaction(
                conn,
                delivery["conversation_id"],
                uuid.uuid5(DELIVERY_NAMESPACE, f"{key[0]}:{key[1]}"),
                delivery["body"],
                [{"id": f"unsubscribe:{key[0]}", "label": UNSUBSCRIBE}],
                links=msgspec.json.decode(delivery["links"]),
                image_id=delivery["image_id"],
            )
            seq, changed = sent.seq, (sent.conversation, sent.version)
        else:
            address = await conn.fetchval(
                "SELECT value FROM subject_field WHERE subject_id = $1 AND field = 'email'"
                " AND blocked_at IS NULL",
                delivery["subject_id"],
            )
            if address is None:
                await _settle(conn, key, "skipped", "нет адреса электронной почты")
                return True
            letter = _letter(address, delivery, key)
            try:
                # Under the delivery's lock: no other sender takes it while the server answers.
                sent_by = await mail.deliver(letter, delivery["subject_id"])
            except mail.MailError as refused:
                await _settle(conn, key, "failed", str(refused))
                return True
            fields = ("email",)
            if sent_by != "smtp":
                actions += [Action.RECORDING, Action.STORAGE]  # the letter in the outbox folder
        await conn.execute(
            "UPDATE mailing_delivery SET status = 'delivered', delivered_at = now(), message_seq"
            " = $4"
            " WHERE mailing_id = $1 AND subject_id = $2 AND channel = $3",
            *key,
            seq,
        )
        await processing_log.record(
            *[
                LogEntry(
                    action=action,
                    actor_kind=ActorKind.SYSTEM,
                    subject_id=delivery["subject_id"],
                    fields=fields,
                    purpose=purpose,
                    legal_basis=f"consent:{given['id']}",
                    reason="доставка рекламной рассылки",
                )
                for action in actions
            ]
        )
    if changed is not None:
        await notify.changed(*changed)
    return True


async def _settle(conn: asyncpg.Connection, key: tuple[Any, ...], status: str, reason: str) -> None:
    await conn.execute(
        "UPDATE mailing_delivery SET status = $4, reason = $5"
        " WHERE mailing_id = $1 AND subject_id = $2 AND channel = $3",
        *key,
        status,
        reason,
    )


def base_url() -> str:
    """Where links in letters point: OKNO_PUBLIC_URL, or the address okno listens on."""
    settings = get_settings()
    return (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")


def _letter(address: str, delivery: asyncpg.Record, key: tuple[Any, ...]) -> EmailMessage:
    link = base_url() + UNSUBSCRIBE_PATH + unsubscribe_token(key[0], key[1])
    lines = [delivery["body"], ""]
    lines += [f"{item['label']}: {item['url']}" for item in msgspec.json.decode(delivery["links"])]
    lines += ["", "—", f"Отписаться от рекламных писем: {link}"]
    message = mail.compose(address, delivery["title"], "\n".join(lines))
    message["List-Unsubscribe"] = f"<{link}>"
    return message


def unsubscribe_token(mailing_id: int, subject_id: uuid.UUID) -> str:
    """The letter's own unsubscribe key: names the mailing and the subject, signed."""
    body = f"{mailing_id}.{subject_id.hex}"
    return f"{body}.{_signature(body)}"


def _signature(body: str) -> str:
    key = secret_key(get_settings()).encode()
    digest = hmac.new(key, f"unsubscribe\x00{body}".encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode()


def _from_token(token: str) -> tuple[int, uuid.UUID]:
    parts = token.split(".")
    if len(parts) == 3 and parts[0].isdigit() and len(parts[0]) < 19:
        body = f"{parts[0]}.{parts[1]}"
        if hmac.compare_digest(_signature(body), parts[2]):
            with contextlib.suppress(ValueError):
                return int(parts[0]), uuid.UUID(hex=parts[1])
    raise MailingError("ссылка для отписки недействительна")


async def _finish_sent() -> None:
    async with database.acquire() as conn:
        await conn.execute(
            "UPDATE mailing SET status = 'sent', finished_at = now() WHERE status = 'sending'"
            " AND NOT EXISTS (SELECT 1 FROM mailing_delivery d WHERE d.mailing_id = mailing.id"
            " AND d.status = 'pending')"
        )


# ---------------------------------------------------------------- unsubscribe


async def _unsubscribe(click: buttons.Press) -> None:
    """One click withdraws the advertising consent at once, with proof; later mailings skip them."""
    mailing_id = int(click.button.split(":", 1)[1])
    async with database.transaction():
        conn = database.connection()
        subject_id = await conn.fetchval(
            "SELECT subject_id FROM conversation WHERE id = $1", click.conversation
        )
        given = await consent.active(conn, subject_id, PURPOSES["chat"])
        if given is not None:
            await consent.withdraw(
                conn,
                subject_id,
                given["id"],
                consent.Proof(
                    channel=click.channel,
                    control=f"button:{UNSUBSCRIBE}",
                    ip=click.ip,
                    user_agent=click.user_agent,
                ),
            )
        await conn.execute(
            "UPDATE mailing_delivery SET unsubscribed_at = coalesce(unsubscribed_at, now())"
            " WHERE mailing_id = $1 AND subject_id = $2",
            mailing_id,
            subject_id,
        )
    await service.retire_buttons(click.conversation, click.seq)
    await service.bot_message(
        click.conversation,
        "Вы отписались от рекламных сообщений. Ответы на ваши вопросы это не затрагивает.",
        [],
    )


buttons.register("unsubscribe", _unsubscribe)


async def check_unsubscribe_link(token: str) -> bool:
    """Whether the link is genuine; ``True`` while its subject still has the consent."""
    _, subject_id = _from_token(token)
    async with database.acquire() as conn:
        return await consent.active(conn, subject_id, PURPOSES["email"]) is not None


async def unsubscribe_by_link(token: str, ip: str | None, user_agent: str | None) -> None:
    """The letter's link: withdraws the e-mail advertising consent at once, with proof."""
    mailing_id, subject_id = _from_token(token)
    async with database.transaction():
        conn = database.connection()
        given = await consent.active(conn, subject_id, PURPOSES["email"])
        if given is not None:
            await consent.withdraw(
                conn,
                subject_id,
                given["id"],
                consent.Proof(
                    channel="portal",
                    control=f"link:{UNSUBSCRIBE} (письмо)",
                    ip=ip,
                    user_agent=user_agent,
                ),
            )
        await conn.execute(
            "UPDATE mailing_delivery SET unsubscribed_at = coalesce(unsubscribed_at, now())"
            " WHERE mailing_id = $1 AND subject_id = $2 AND channel = 'email'",
            mailing_id,
            subject_id,
        )


async def failures(mailing_id: int) -> list[dict[str, Any]]:
    """Why deliveries failed or were skipped, with how many each time (for the staff page)."""
    async with database.acquire() as conn:
        rows = await conn.fetch(
            "SELECT status, channel, reason, count(*) AS n FROM mailing_delivery"
            " WHERE mailing_id = $1 AND status IN ('failed', 'skipped')"
            " GROUP BY status, channel, reason ORDER BY status, channel, reason",
            mailing_id,
        )
    return [dict(row) for row in rows]


async def runner(stop: asyncio.Event) -> None:
    """The in-server sender: every few seconds, whatever is due."""
    while not stop.is_set():
        try:
            await run_due()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            logger.warning("mailings: database unavailable (%s)", type(error).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=2)
