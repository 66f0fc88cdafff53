"""Sending a mailing: the audience is fixed when sending starts; each delivery then re-checks
consent in the same transaction that stores the message, so a withdrawal between scheduling and
sending is honoured. A delivery's chat message has a deterministic client id: a restart
mid-mailing resumes with the pending deliveries and can never send one twice. A letter is handed
to the mail server inside its delivery's transaction, with the delivery locked: it is
``delivered`` (and its ``use`` logged) only when the server accepted it, ``failed`` with the
reason when it refused.
"""

from __future__ import annotations

import asyncio
import uuid
from email.message import EmailMessage
from typing import Any

import asyncpg
import msgspec

from okno.platform import database, job_loop, mail
from okno.platform.chat import notify, service
from okno.platform.consent import service as consent
from okno.platform.mailings import queries
from okno.platform.mailings.service import PURPOSES, Audience, audience_rows, one_delivery
from okno.platform.mailings.tables import Mailing, MailingDelivery
from okno.platform.mailings.unsubscribe import UNSUBSCRIBE, UNSUBSCRIBE_PATH, unsubscribe_token
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action, ActorKind
from okno.platform.processing_log.schemas import LogEntry
from okno.platform.settings import get_settings
from okno.platform.subjects.tables import SubjectField
from okno.platform.webhooks import events as webhook_events

DELIVERY_NAMESPACE = uuid.UUID("6f6b6e6f-6d61-696c-696e-670000000000")


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
            rows = await audience_rows(conn, audience)
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
            .where(one_delivery(*key))
            .run()
        )
        await webhook_events.emit(
            conn,
            "mailing.delivered",
            {
                "mailing_id": key[0],
                "subject_id": str(key[1]),
                "channel": key[2],
                "conversation_id": delivery["conversation_id"],
            },
            subject_id=key[1],
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


async def _settle(key: tuple[Any, ...], status: str, reason: str) -> None:
    await (
        MailingDelivery.update({MailingDelivery.status: status, MailingDelivery.reason: reason})
        .where(one_delivery(*key))
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


async def _finish_sent() -> None:
    async with database.acquire() as conn:
        await conn.execute(queries.FINISH_SENT)


async def runner(stop: asyncio.Event) -> None:
    """The in-server sender: every few seconds, whatever is due."""
    await job_loop.every(stop, 2, "mailings", run_due)
