"""The chat for an integration (/api/v1, an API token): its conversations and messages.

An integration sees every conversation but a blocked subject's, and acts through the same
service paths as the console and its socket (one transaction, the log rows in it, announced
after commit, a repeated ``client_id`` stored once). Its reads hand a client's messages to
another system: each is logged as provision to the token's integration, one row per subject,
in the read's transaction. Messages are processed for the chat's one purpose, support, so
only a token declared for that purpose may read or write them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

import asyncpg
import msgspec

from okno.platform import clock, database
from okno.platform.apitokens.service import ApiClient
from okno.platform.chat import compliance, messages, queries, service, summaries
from okno.platform.chat.compliance import Actor
from okno.platform.chat.errors import ChatError
from okno.platform.chat.schemas import ConversationSummary, MessagePage, Tagged
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action, ActorKind
from okno.platform.processing_log.schemas import LogEntry
from okno.platform.reports import sla


class ConversationPage(msgspec.Struct, frozen=True):
    """A page of conversations by id; ``next_after`` is the cursor of the next page (null: the
    last one)."""

    conversations: list[ConversationSummary]
    next_after: int | None


class SentMessage(msgspec.Struct, frozen=True):
    """A stored message (a repeated ``client_id`` answers the first send's place)."""

    conversation: int
    seq: int
    version: int


def _require_purpose(client: ApiClient) -> None:
    if client.purpose != compliance.PURPOSE:
        raise ChatError(
            "forbidden",
            "цель этого токена не покрывает переписку: она ведётся для цели «support»",
        )


def provided(
    client: ApiClient, subject_ids: Iterable[uuid.UUID | None], fields: tuple[str, ...], what: str
) -> list[LogEntry]:
    """Provision of the subjects' ``fields`` to the token's integration, one row each."""
    return [
        LogEntry(
            action=Action.PROVISION,
            actor_kind=ActorKind.INTEGRATION,
            actor_id=str(client.token_id),
            subject_id=subject_id,
            fields=fields,
            purpose=client.purpose,
            legal_basis=compliance.LEGAL_BASIS,
            reason=f"API: {what}",
        )
        for subject_id in dict.fromkeys(subject_ids)
        if subject_id is not None
    ]


async def _conversation(conn: asyncpg.Connection, conversation_id: int) -> asyncpg.Record:
    row = await conn.fetchrow(queries.INTEGRATION_CONVERSATION, conversation_id)
    if row is None:
        raise ChatError("not_found", "нет такого диалога")
    if row["blocked"]:
        raise ChatError(
            "blocked",
            "данные клиента заблокированы ответственным за обработку ПДн на время проверки",
        )
    return row


async def _checked(client: ApiClient, conversation_id: int) -> None:
    """The integration may act on the conversation: its purpose, the subject not blocked."""
    _require_purpose(client)
    async with database.acquire() as conn:
        await _conversation(conn, conversation_id)


async def conversations(
    client: ApiClient,
    *,
    after: int,
    limit: int,
    status: str | None = None,
    tag: str | None = None,
    assignee: int | None = None,
    team: int | None = None,
    updated_since: datetime | None = None,
) -> ConversationPage:
    """Conversations after the cursor, oldest first, with their last message's preview."""
    _require_purpose(client)
    async with database.transaction():
        conn = database.connection()
        rows = await summaries.fetch(
            conn,
            queries.INTEGRATION_PAGE,
            after,
            status,
            tag,
            assignee,
            team,
            updated_since,
            limit,
        )
        await processing_log.record(
            *provided(client, (r["subject_id"] for r in rows), ("message_text",), "список диалогов")
        )
    checker, now = await sla.Checker.load(), clock.now()
    page = [summaries.for_staff(row, checker, now) for row in rows]
    return ConversationPage(page, page[-1].id if page and len(page) == limit else None)


async def conversation(client: ApiClient, conversation_id: int) -> ConversationSummary:
    _require_purpose(client)
    async with database.transaction():
        conn = database.connection()
        found = await _conversation(conn, conversation_id)
        row = await summaries.one(conn, conversation_id)
        assert row is not None  # _conversation found it in this transaction
        await processing_log.record(
            *provided(client, [found["subject_id"]], ("message_text",), "диалог")
        )
    return summaries.for_staff(row, await sla.Checker.load(), clock.now())


async def history(
    client: ApiClient, conversation_id: int, before: int | None, limit: int
) -> MessagePage:
    """Messages before ``before``, oldest first, internal notes included."""
    _require_purpose(client)
    async with database.transaction():
        conn = database.connection()
        found = await _conversation(conn, conversation_id)
        rows = await messages.page_before(conn, conversation_id, before, limit, for_client=False)
        fields = (
            ("message_text", "attachment")
            if any(r["attachment_id"] for r in rows)
            else ("message_text",)
        )
        if rows:
            await processing_log.record(
                *provided(client, [found["subject_id"]], fields, "сообщения диалога")
            )
    return MessagePage([messages.wire(row, for_client=False) for row in rows])


async def send(
    client: ApiClient,
    conversation_id: int,
    client_id: uuid.UUID,
    text: str,
    as_staff: int | None,
    internal: bool,
) -> SentMessage:
    """A message from the integration, as the bot or as an operator (``service.send_for``);
    a repeated ``client_id`` stores nothing and answers the first send."""
    await _checked(client, conversation_id)
    sent = await service.send_for(
        Actor.integration(client.token_id), conversation_id, client_id, text, as_staff, internal
    )
    return SentMessage(sent.conversation, sent.seq, sent.version)


async def assign(client: ApiClient, conversation_id: int, staff_id: int) -> int:
    """Give the conversation to a chat staff member; returns its version."""
    await _checked(client, conversation_id)
    return await service.assign_to(conversation_id, staff_id)


async def transfer(
    client: ApiClient, conversation_id: int, to_staff: int | None, to_team: int | None
) -> int:
    await _checked(client, conversation_id)
    return await service.transfer_visible(
        Actor.integration(client.token_id), conversation_id, to_staff, to_team
    )


async def set_status(client: ApiClient, conversation_id: int, status: str) -> int:
    await _checked(client, conversation_id)
    return await service.set_status_visible(conversation_id, status)


async def set_tags(client: ApiClient, conversation_id: int, tags: list[str]) -> Tagged:
    await _checked(client, conversation_id)
    return Tagged(conversation_id, await service.set_tags(conversation_id, tags))
