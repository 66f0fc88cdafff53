"""What the DPO console asks of okno: the requests' queue and pages, their steps, a subject by
pseudonymous id, and the processing log's search and check. Each function is one page's data or
one step, so the console only parses forms and renders."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from okno.platform import database
from okno.platform.erasure import acts
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.service import VerifyResult
from okno.platform.rights import blocking, handling, queries, requests
from okno.platform.rights.requests import Request
from okno.platform.rights.schemas import (
    Event,
    LogFilter,
    LogRow,
    ProfileField,
    RequestPage,
    Subject,
    SubjectPage,
)
from okno.platform.rights.tables import RightsRequest

QUEUE_LIMIT = 500
CLOSED = ("refused", "done")
CONVERSATION_PREFIX = "Клиент"  # «Клиент #7» names a subject by their conversation


async def queue(*, by_receipt: bool = False, closed_too: bool = False) -> list[Request]:
    """Requests by deadline (or newest received first), the open ones unless ``closed_too``."""
    query = RightsRequest.select()
    if not closed_too:
        query = query.where(RightsRequest.status.not_in(list(CLOSED)))
    if by_receipt:
        query = query.order_by(RightsRequest.received_at, ascending=False)
    else:
        query = query.order_by(RightsRequest.due_at)
    rows = await query.order_by(RightsRequest.id).limit(QUEUE_LIMIT).run()
    return [requests.from_row(row) for row in rows]


async def request_page(request_id: int, staff: Any) -> RequestPage | None:
    """One request with its history, its subject's blocking and profile, and its acts; showing
    a letter's identifying details is logged as access (handling.read)."""
    item = await handling.read(request_id, staff)
    if item is None:
        return None
    async with database.acquire() as conn:
        history = await requests.history(conn, request_id)
        state = await blocking.state(conn, item.subject_id) if item.subject_id else None
        profile = await _profile(conn, item.subject_id) if item.subject_id else []
    return RequestPage(
        request=item,
        history=[Event(**row) for row in history],
        state=state,
        profile=profile,
        acts=await acts.made_for(request_id),
    )


async def transition(
    request_id: int,
    to_status: str,
    staff_id: int,
    *,
    note: str | None = None,
    notice: str | None = None,
    reason: str | None = None,
) -> Request:
    """Move the request on (requests.transition), in a transaction of its own."""
    async with database.transaction():
        return await requests.transition(
            database.connection(), request_id, to_status, staff_id,
            note=note, notice=notice, reason=reason,
        )  # fmt: skip


async def extend(request_id: int, staff_id: int, reason: str) -> Request:
    """The one extension the law allows (requests.extend), in a transaction of its own."""
    async with database.transaction():
        return await requests.extend(database.connection(), request_id, staff_id, reason)


async def find_subject(query: str) -> uuid.UUID | None:
    """A subject by their conversation («Клиент #7», «7») or by pseudonymous id."""
    text = query.strip().removeprefix(CONVERSATION_PREFIX).strip().lstrip("#")
    async with database.acquire() as conn:
        if text.isdigit() and len(text) <= 12:
            return await conn.fetchval(queries.SUBJECT_OF_CONVERSATION, int(text))
        try:
            key = uuid.UUID(text.strip())
        except ValueError:
            return None
        return await conn.fetchval(queries.SUBJECT, key)  # its first column: the id


async def subject_page(subject_id: uuid.UUID) -> SubjectPage | None:
    """A subject by pseudonymous id: fields (names, not values), blocking, requests, acts."""
    async with database.acquire() as conn:
        row = await conn.fetchrow(queries.SUBJECT, subject_id)
        if row is None:
            return None
        profile = await _profile(conn, subject_id)
        conversation = await conn.fetchval(queries.CONVERSATION_OF_SUBJECT, subject_id)
        asked = await requests.for_subject(conn, subject_id)
    return SubjectPage(
        subject=Subject(**row),
        profile=profile,
        conversation=conversation,
        requests=asked,
        acts=await acts.listing(subject_id),
    )


async def search_log(search: LogFilter) -> list[LogRow]:
    """The processing log's rows that match, newest first."""
    async with database.acquire() as conn:
        rows = await conn.fetch(
            queries.LOG_SEARCH,
            search.subject_id,
            search.action,
            search.actor_kind,
            search.actor_id,
            search.purpose,
            search.start,
            search.end,
            search.limit,
        )
    return [LogRow(**row) for row in rows]


async def verify_log(source: str) -> VerifyResult:
    """`okno log verify`: the hash chain checked from the first row, its head anchored."""
    async with database.acquire() as conn:
        return await processing_log.verify_and_anchor(conn, source)


async def _profile(conn: asyncpg.Connection, subject_id: uuid.UUID) -> list[ProfileField]:
    return [ProfileField(**row) for row in await conn.fetch(queries.PROFILE_FIELDS, subject_id)]
