"""Sending staff and bot messages to the channels: queued in the database, sent by a job.

Each message of a channel conversation is queued once (``channel_outbound``, unique per
message). A worker takes the oldest due one of a conversation with ``SKIP LOCKED`` and holds
its row while the messenger answers, so no two workers send it; it becomes ``sent`` (with a
``provision`` row in the processing log) only when the messenger accepted it, waits with a
growing back-off after a time-out, a rate limit or an outage, and is ``failed`` with the reason
when the messenger refuses it for good. VK's ``random_id`` is the row's id, so a retry after a
lost answer is not shown twice; MAX has no such key (docs/channels.md).
"""

from __future__ import annotations

import asyncio

import msgspec

from okno.platform import database, job_loop
from okno.platform.channels import queries
from okno.platform.channels.errors import RejectedError, TransientError
from okno.platform.channels.schemas import Button, Outgoing
from okno.platform.channels.service import KIND_LABELS, OPERATORS, get
from okno.platform.mailings.sending import base_url
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action, ActorKind
from okno.platform.processing_log.schemas import LogEntry

IDLE_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 300
FORM_HINT = "Напишите ответ следующим сообщением."


def backoff(attempts: int) -> float:
    return float(min(2**attempts, MAX_BACKOFF_SECONDS))


def outgoing(seq: int, body: str, extras: dict[str, object]) -> Outgoing:
    """A chat message as a messenger shows it: the text, its links written out, its buttons."""
    base = base_url()
    lines = [body]
    links = extras.get("links") or []
    assert isinstance(links, list)
    for link in links:
        url = link["url"]
        lines.append(f"{link['label']}: {base + url if url.startswith('/') else url}")
    if extras.get("form"):
        lines.append(FORM_HINT)
    found = extras.get("buttons") or []
    assert isinstance(found, list)
    return Outgoing(
        "\n\n".join(line for line in lines if line),
        tuple(Button(f"{seq}|{item['id']}", item["label"]) for item in found),
    )


async def queue_new() -> None:
    async with database.transaction():
        conn = database.connection()
        await conn.execute(queries.QUEUE_NEW)
        await conn.execute(queries.SKIP_UNSENT)


async def send_one() -> bool:
    """Send the oldest due message; ``False`` when none is due."""
    async with database.transaction():
        conn = database.connection()
        due = await conn.fetchrow(queries.TAKE_DUE)
        if due is None:
            return False
        channel = await get(due["channel_id"])
        extras = msgspec.json.decode(due["buttons"])
        message = outgoing(due["seq"], due["body"], extras)
        try:
            external_id = await channel.bot().send(due["external_id"], message, key=due["id"])
        except TransientError as error:
            await conn.execute(
                queries.OUTBOUND_RETRY, due["id"], error.reason, backoff(due["attempts"])
            )
            await conn.execute(queries.CHANNEL_FAILED, channel.id, error.reason)
            return True
        except RejectedError as error:
            await conn.execute(queries.OUTBOUND_FAILED, due["id"], error.reason)
            await conn.execute(queries.CHANNEL_FAILED, channel.id, error.reason)
            return True
        await conn.execute(queries.OUTBOUND_SENT, due["id"], external_id)
        await processing_log.record(
            LogEntry(
                action=Action.PROVISION,
                actor_kind=ActorKind.SYSTEM,
                subject_id=due["subject_id"],
                fields=("message_text", "messenger_id"),
                purpose="support",
                legal_basis=channel.legal_basis,
                reason=f"сообщение передано через {KIND_LABELS[channel.kind]}: "
                f"{OPERATORS[channel.kind]}",
            )
        )
    return True


async def sender(stop: asyncio.Event) -> None:
    """The background job: queue new messages, send what is due, then wait a moment."""

    async def one_round() -> None:
        await queue_new()
        while not stop.is_set() and await send_one():
            pass

    await job_loop.every(stop, IDLE_SECONDS, "channel_sender", one_round)
