"""Sending the outbox: each delivery is claimed with ``FOR UPDATE SKIP LOCKED`` and posted
while its row stays locked, so several workers never send one at once; its outcome commits with
the row. A crash after the receiver answered but before the commit sends it again: the
``Okno-Event-Id`` header lets the receiver drop the repeat. The events of one conversation go
to an endpoint in order (the next waits until the one before it is delivered or given up).
"""

from __future__ import annotations

import asyncio
import logging
import time

import asyncpg
import httpx
import msgspec

from okno.platform import database, job_loop, mail
from okno.platform.chat import compliance as chat_compliance
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action, ActorKind
from okno.platform.processing_log.schemas import LogEntry
from okno.platform.settings import get_settings
from okno.platform.webhooks import queries, signing
from okno.platform.webhooks.tables import WebhookDelivery, WebhookEndpoint

logger = logging.getLogger("okno.webhooks")
RESPONSE_KEPT = 500  # characters of the receiver's answer shown on the page
IDLE_SECONDS = 1.0
PURGE_EVERY = 600  # delivery passes between two purges of week-old rows
# What the payload's PD part holds, as processing-log field names.
PD_FIELDS = {"text": "message_text"}


def envelope(row: asyncpg.Record) -> bytes:
    data = {**msgspec.json.decode(row["payload"]), **msgspec.json.decode(row["pd"])}
    return msgspec.json.encode(
        {
            "id": str(row["event_id"]),
            "type": row["event"],
            "created_at": row["created_at"].isoformat(),
            "data": data,
        }
    )


async def _post(client: httpx.AsyncClient, row: asyncpg.Record) -> tuple[int | None, str]:
    """The receiver's status and answer, or ``None`` and why there was none."""
    body = envelope(row)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "okno-webhooks/1",
        "Okno-Event-Id": str(row["event_id"]),
        "Okno-Event": row["event"],
        "Okno-Signature": signing.signature(signing.decrypt(row["secret"]), int(time.time()), body),
    }
    kept = b""
    try:
        async with client.stream("POST", row["url"], content=body, headers=headers) as response:
            # Only the answer's start is kept: a receiver's long answer is never read whole.
            async for chunk in response.aiter_bytes():
                kept += chunk
                if len(kept) >= RESPONSE_KEPT * 4:
                    break
    except httpx.TimeoutException:
        return None, "получатель не ответил вовремя"
    except httpx.HTTPError as error:
        return None, f"нет соединения с получателем ({type(error).__name__})"
    return response.status_code, kept.decode("utf-8", "replace")[:RESPONSE_KEPT]


async def deliver_one(client: httpx.AsyncClient) -> bool:
    """Send the next due delivery; ``False`` when none is due."""
    paused_now = False
    async with database.transaction():
        conn = database.connection()
        row = await conn.fetchrow(queries.CLAIM_NEXT)
        if row is None:
            return False
        status, answer = await _post(client, row)
        if status is not None and 200 <= status < 300:
            await _delivered(row, status, answer)
        else:
            settings = get_settings()
            await conn.execute(
                queries.RETRY_LATER, row["seq"], status, answer, settings.webhook_retry_seconds
            )
            paused_now = bool(
                await conn.fetchval(
                    queries.ENDPOINT_FAILED,
                    row["endpoint_id"],
                    status,
                    answer,
                    settings.webhook_pause_after_failures,
                )
            )
    if paused_now:
        _tell_admin(row["url"])
    return True


async def _delivered(row: asyncpg.Record, status: int, answer: str) -> None:
    await (
        WebhookDelivery.update(
            {
                WebhookDelivery.status: "delivered",
                WebhookDelivery.delivered_at: database.NOW,
                WebhookDelivery.attempts: WebhookDelivery.attempts + 1,
                WebhookDelivery.last_status: status,
                WebhookDelivery.last_response: "",
            }
        )
        .where(WebhookDelivery.seq == row["seq"])
        .run()
    )
    await (
        WebhookEndpoint.update(
            {
                WebhookEndpoint.failures: 0,
                WebhookEndpoint.last_attempt_at: database.NOW,
                WebhookEndpoint.last_status: status,
                WebhookEndpoint.last_response: answer,
            }
        )
        .where(WebhookEndpoint.id == row["endpoint_id"])
        .run()
    )
    fields = tuple(PD_FIELDS[key] for key in msgspec.json.decode(row["pd"]) if key in PD_FIELDS)
    if fields and row["subject_id"] is not None:
        # The endpoint's scope includes PD: handing it to the receiver is a provision.
        await processing_log.record(
            LogEntry(
                action=Action.PROVISION,
                actor_kind=ActorKind.SYSTEM,
                subject_id=row["subject_id"],
                fields=fields,
                # The texts are the support chat's; the receiver is the company's own system.
                purpose=chat_compliance.PURPOSE,
                legal_basis=chat_compliance.LEGAL_BASIS,
                reason=f"вебхук №{row['endpoint_id']}: передача во внешнюю систему",
            )
        )


def _tell_admin(url: str) -> None:
    """The console shows paused endpoints; a letter goes too when an address is set."""
    logger.warning("webhooks: an endpoint kept failing and was paused")
    address = get_settings().webhook_alert_email
    if address:
        text = (
            f"Вебхук {url} долго не принимает события и приостановлен.\n"
            "События копятся и будут отправлены после возобновления в консоли: «Вебхуки»."
        )
        mail.send_later(mail.compose(address, "окно: вебхук приостановлен", text))


async def _purge_old() -> None:
    async with database.acquire() as conn:
        await conn.execute(queries.PURGE_OLD)


def client() -> httpx.AsyncClient:
    timeout = get_settings().webhook_timeout_seconds
    # Redirects are not followed: a signed event goes only to the address the admin entered.
    return httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False)


async def runner(stop: asyncio.Event) -> None:
    """The in-server sender: whatever is due, then a short wait."""
    passes = 0
    async with client() as http:

        async def one_round() -> None:
            nonlocal passes
            while not stop.is_set() and await deliver_one(http):
                pass
            if passes % PURGE_EVERY == 0:
                await _purge_old()
            passes += 1

        await job_loop.every(stop, IDLE_SECONDS, "webhooks", one_round)
