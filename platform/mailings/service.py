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
from piccolo.columns.combination import Combinable

from okno.platform import database, mail
from okno.platform.chat import buttons, notify, service
from okno.platform.chat.tables import Conversation
from okno.platform.consent import service as consent
from okno.platform.errors import NotFound, Refused
from okno.platform.mailings import queries
from okno.platform.mailings.tables import Mailing, MailingDelivery
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action, ActorKind
from okno.platform.processing_log.schemas import LogEntry
from okno.platform.secret_key import secret_key
from okno.platform.settings import get_settings
from okno.platform.subjects.tables import SubjectField

logger = logging.getLogger("okno.mailings")
PURPOSES = {"chat": "advertising-chat", "email": "advertising-email"}
DELIVERY_NAMESPACE = uuid.UUID("6f6b6e6f-6d61-696c-696e-670000000000")
UNSUBSCRIBE = "Отписаться"
UNSUBSCRIBE_PATH = "/unsubscribe/"


class MailingError(Refused):
    """A request about mailings that cannot be done; the message is for the person who asked."""


class LinkError(MailingError, NotFound):
    """An unsubscribe link okno did not sign: there is nothing behind it to show."""


class Audience(msgspec.Struct, frozen=True, kw_only=True):
    topics: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    contacted_within_days: int | None = None
    email: bool = False


async def _audience(conn: asyncpg.Connection, audience: Audience) -> list[asyncpg.Record]:
    return await conn.fetch(
        queries.AUDIENCE, list(audience.topics), list(audience.tags), audience.contacted_within_days
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
        due = await (
            Mailing.select(
                Mailing.id,
                Mailing.email,
                Mailing.topics,
                Mailing.tags,
                Mailing.contacted_within_days,
            )
            .where((Mailing.status == "scheduled") & (Mailing.scheduled_at <= database.NOW))
            .lock_rows(skip_locked=True)
            .run()
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
                queries.ADD_DELIVERY,
                [
                    (mailing["id"], r["subject_id"], ch, r["conversation_id"])
                    for r in rows
                    for ch in channels
                ],
            )
            await (
                Mailing.update({Mailing.status: "sending", Mailing.started_at: database.NOW})
                .where(Mailing.id == mailing["id"])
                .run()
            )


async def _deliver_one() -> bool:
    """One pending delivery, in one transaction with its message and log row."""
    changed: tuple[int, int] | None = None
    async with database.transaction():
        conn = database.connection()
        delivery = await conn.fetchrow(queries.NEXT_DELIVERY)
        if delivery is None:
            return False
        key = (delivery["mailing_id"], delivery["subject_id"], delivery["channel"])
        purpose = PURPOSES[delivery["channel"]]
        given = await consent.active(conn, delivery["subject_id"], purpose)
        if given is None or delivery["unreachable"]:
            reason = (
                "нет действующего согласия" if given is None else "данные субъекта заблокированы"
            )
            await _settle(key, "skipped", reason)
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
            email = (
                await SubjectField.select(SubjectField.value)
                .where(
                    (SubjectField.subject_id == delivery["subject_id"])
                    & (SubjectField.field == "email")
                    & SubjectField.blocked_at.is_null()
                )
                .first()
                .run()
            )
            if email is None:
                await _settle(key, "skipped", "нет адреса электронной почты")
                return True
            letter = _letter(email["value"], delivery, key)
            try:
                # Under the delivery's lock: no other sender takes it while the server answers.
                sent_by = await mail.deliver(letter, delivery["subject_id"])
            except mail.MailError as refused:
                await _settle(key, "failed", str(refused))
                return True
            fields = ("email",)
            if sent_by != "smtp":
                actions += [Action.RECORDING, Action.STORAGE]  # the letter in the outbox folder
        await (
            MailingDelivery.update(
                {
                    MailingDelivery.status: "delivered",
                    MailingDelivery.delivered_at: database.NOW,
                    MailingDelivery.message_seq: seq,
                }
            )
            .where(_delivery(*key))
            .run()
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


def _delivery(mailing_id: int, subject_id: uuid.UUID, channel: str) -> Combinable:
    """The one delivery of the mailing to the subject on the channel (its real key)."""
    return (
        (MailingDelivery.mailing_id == mailing_id)
        & (MailingDelivery.subject_id == subject_id)
        & (MailingDelivery.channel == channel)
    )


async def _settle(key: tuple[Any, ...], status: str, reason: str) -> None:
    await (
        MailingDelivery.update({MailingDelivery.status: status, MailingDelivery.reason: reason})
        .where(_delivery(*key))
        .run()
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
    raise LinkError("ссылка для отписки недействительна")


async def _finish_sent() -> None:
    async with database.acquire() as conn:
        await conn.execute(queries.FINISH_SENT)


# ---------------------------------------------------------------- unsubscribe


async def _unsubscribe(click: buttons.Press) -> None:
    """One click withdraws the advertising consent at once, with proof; later mailings skip them."""
    mailing_id = int(click.button.split(":", 1)[1])
    async with database.transaction():
        conn = database.connection()
        found = (
            await Conversation.select(Conversation.subject_id)
            .where(Conversation.id == click.conversation)
            .first()
            .run()
        )
        assert found is not None  # the button was pressed in this conversation
        subject_id: uuid.UUID = found["subject_id"]
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
        await _mark_unsubscribed(
            (MailingDelivery.mailing_id == mailing_id) & (MailingDelivery.subject_id == subject_id)
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
        await _mark_unsubscribed(_delivery(mailing_id, subject_id, "email"))


async def _mark_unsubscribed(deliveries: Combinable) -> None:
    """The first unsubscription from these deliveries is the one the report counts."""
    await (
        MailingDelivery.update({MailingDelivery.unsubscribed_at: database.NOW})
        .where(deliveries & MailingDelivery.unsubscribed_at.is_null())
        .run()
    )


async def failures(mailing_id: int) -> list[dict[str, Any]]:
    """Why deliveries failed or were skipped, with how many each time (for the staff page)."""
    async with database.acquire() as conn:
        rows = await conn.fetch(queries.FAILURES, mailing_id)
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
