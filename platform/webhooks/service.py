"""Webhook endpoints: registered, paused and resumed by an admin, each change in the staff
audit log. A scope wider than ids (``pd``: message texts go to the receiver) is a transfer of
personal data, so it is chosen explicitly and audited as such."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import asyncpg
import msgspec

from okno.platform import database, shared_cache
from okno.platform.audit import service as audit
from okno.platform.audit.service import Actor, Entity
from okno.platform.errors import NotFound, Refused
from okno.platform.webhooks import events, queries, signing
from okno.platform.webhooks.schemas import Created, Endpoint, Failure
from okno.platform.webhooks.tables import WebhookDelivery, WebhookEndpoint

SCOPES = {
    "ids": "только идентификаторы (по умолчанию)",
    "pd": "идентификаторы и тексты сообщений (передача ПДн получателю)",
}
RECENT_FAILURES = 20
DELIVERY_STATUSES = ("pending", "delivered", "failed")


class WebhookError(Refused):
    """A webhook change that cannot be made."""


def _checked_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
        raise WebhookError("адрес: полный URL, начинающийся с https:// или http://")
    if parts.username or parts.password:
        raise WebhookError("адрес: без логина и пароля в URL, подпись заменяет их")
    return url


def _checked_events(chosen: list[str]) -> list[str]:
    unknown = [name for name in chosen if name not in events.EVENTS]
    if unknown or not chosen:
        raise WebhookError("выберите хотя бы одно событие из списка")
    return sorted(set(chosen))


async def create(actor: Actor, url: str, chosen: list[str], pd_scope: str) -> Created:
    url, chosen = _checked_url(url), _checked_events(chosen)
    if pd_scope not in SCOPES:
        raise WebhookError("объём данных: только идентификаторы или с текстами сообщений")
    secret = signing.new_secret()
    async with database.transaction():
        assert actor.id is not None
        rows = await (
            WebhookEndpoint.insert(
                WebhookEndpoint(
                    url=url,
                    events=chosen,
                    pd_scope=pd_scope,
                    secret=signing.encrypt(secret),
                    created_by=actor.id,
                )
            )
            .returning(WebhookEndpoint.id)
            .run()
        )
        endpoint_id = rows[0]["id"]
        after = {"url": url, "events": chosen, "pd_scope": pd_scope}
        await audit.record(actor, Entity.WEBHOOK, endpoint_id, "создан", None, after)
    await shared_cache.announce(events.CACHE)
    return Created(endpoint_id, secret)


async def _locked(endpoint_id: int) -> dict[str, Any]:
    row = (
        await WebhookEndpoint.select(WebhookEndpoint.url, WebhookEndpoint.paused_at)
        .where(WebhookEndpoint.id == endpoint_id)
        .lock_rows()
        .first()
        .run()
    )
    if row is None:
        raise NotFound("нет такого вебхука")
    return row


async def pause(actor: Actor, endpoint_id: int) -> None:
    async with database.transaction():
        before = await _locked(endpoint_id)
        if before["paused_at"] is not None:
            return
        await (
            WebhookEndpoint.update(
                {WebhookEndpoint.paused_at: database.NOW, WebhookEndpoint.paused_by: "admin"}
            )
            .where(WebhookEndpoint.id == endpoint_id)
            .run()
        )
        await audit.record(
            actor, Entity.WEBHOOK, endpoint_id, "приостановлен", {"paused": False}, {"paused": True}
        )


async def resume(actor: Actor, endpoint_id: int) -> None:
    """Deliveries start again, the ones queued meanwhile first; failed attempts are forgiven."""
    async with database.transaction():
        before = await _locked(endpoint_id)
        if before["paused_at"] is None:
            return
        await (
            WebhookEndpoint.update(
                {
                    WebhookEndpoint.paused_at: None,
                    WebhookEndpoint.paused_by: None,
                    WebhookEndpoint.failures: 0,
                }
            )
            .where(WebhookEndpoint.id == endpoint_id)
            .run()
        )
        await (
            WebhookDelivery.update({WebhookDelivery.next_attempt_at: database.NOW})
            .where(
                (WebhookDelivery.endpoint_id == endpoint_id) & (WebhookDelivery.status == "pending")
            )
            .run()
        )
        await audit.record(
            actor, Entity.WEBHOOK, endpoint_id, "возобновлён", {"paused": True}, {"paused": False}
        )


async def remove(actor: Actor, endpoint_id: int) -> None:
    """The endpoint and every delivery queued for it go."""
    async with database.transaction():
        before = await _locked(endpoint_id)
        await WebhookEndpoint.delete().where(WebhookEndpoint.id == endpoint_id).run()
        await audit.record(
            actor, Entity.WEBHOOK, endpoint_id, "удалён", {"url": before["url"]}, None
        )
    await shared_cache.announce(events.CACHE)


async def endpoints() -> list[Endpoint]:
    rows = await WebhookEndpoint.select().order_by(WebhookEndpoint.id).run()
    async with database.acquire() as conn:
        counts = await conn.fetch(queries.COUNTS, None)
    by = {(r["endpoint_id"], r["status"]): r["n"] for r in counts}
    return [_endpoint(row, by) for row in rows]


async def endpoint(endpoint_id: int) -> Endpoint:
    row = await WebhookEndpoint.select().where(WebhookEndpoint.id == endpoint_id).first().run()
    if row is None:
        raise NotFound("нет такого вебхука")
    async with database.acquire() as conn:
        counts = await conn.fetch(queries.COUNTS, endpoint_id)
        failures = await _failures(conn, endpoint_id)
    by = {(r["endpoint_id"], r["status"]): r["n"] for r in counts}
    return _endpoint(row, by, failures)


async def _failures(conn: asyncpg.Connection, endpoint_id: int) -> tuple[Failure, ...]:
    rows = await (
        WebhookDelivery.select(
            WebhookDelivery.seq,
            WebhookDelivery.event_id,
            WebhookDelivery.event,
            WebhookDelivery.attempts,
            WebhookDelivery.status,
            WebhookDelivery.last_status,
            WebhookDelivery.last_response,
            WebhookDelivery.next_attempt_at,
            WebhookDelivery.created_at,
        )
        .where(
            (WebhookDelivery.endpoint_id == endpoint_id)
            & (WebhookDelivery.attempts > 0)
            & (WebhookDelivery.status != "delivered")
        )
        .order_by(WebhookDelivery.seq, ascending=False)
        .limit(RECENT_FAILURES)
        .run()
    )
    return tuple(Failure(**{**row, "event_id": str(row["event_id"])}) for row in rows)


def _endpoint(
    row: dict[str, Any],
    counts: dict[tuple[int, str], int],
    failures: tuple[Failure, ...] = (),
) -> Endpoint:
    tally = {status: counts.get((row["id"], status), 0) for status in DELIVERY_STATUSES}
    return msgspec.convert(
        {**row, **tally, "recent_failures": failures}, Endpoint, from_attributes=True
    )


async def paused_by_failures() -> int:
    """How many endpoints the worker paused for failing: the console's notice to admins."""
    return await WebhookEndpoint.count().where(WebhookEndpoint.paused_by == "failures").run()
