"""Conversations and messages. Every change is one transaction: the row, the conversation's
counters and the processing-log rows commit together; then the change is announced."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec

from okno.platform import database
from okno.platform.chat import attachments, notify, queries, tables
from okno.platform.chat.access import visible_conversation
from okno.platform.chat.compliance import Actor, entries
from okno.platform.chat.errors import ChatError
from okno.platform.chat.routing import assign_in_transaction, system_note
from okno.platform.chat.scope import CHAT_ROLES, Scope
from okno.platform.chat.tables import Conversation, Message
from okno.platform.chat.visitors import Visitor
from okno.platform.consent import masking
from okno.platform.pd_detect import find_contacts
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action
from okno.platform.settings import get_settings
from okno.platform.staff import tables as staff_tables
from okno.platform.teams.tables import Team, Topic
from okno.platform.webhooks import events as webhook_events
from okno.platform.webhooks.queries import CLIENT_MESSAGE_CTES

STORE = (Action.RECORDING, Action.STORAGE)


class Sent(msgspec.Struct, frozen=True):
    conversation: int
    seq: int
    version: int
    masked: tuple[str, ...] = ()  # PD fields hidden from the text for want of consent


class Author(msgspec.Struct, frozen=True):
    kind: str  # subject, staff, bot, system
    staff_id: int | None = None

    @property
    def actor(self) -> Actor:
        return Actor.staff(self.staff_id) if self.staff_id is not None else Actor.subject()


SUBJECT = Author("subject")
BOT = Author("bot")
MESSAGE_CREATED = "message.created"
# How a message's author is named in webhook events.
WEBHOOK_AUTHORS = {"subject": "client", "staff": "staff", "bot": "bot"}

# ---------------------------------------------------------------- client side


async def client_conversation(visitor: Visitor) -> int | None:
    if visitor.subject_id is None:
        return None
    row = (
        await Conversation.select(Conversation.id)
        .where(Conversation.subject_id == visitor.subject_id)
        .first()
        .run()
    )
    return row["id"] if row else None


async def choose_topic(visitor: Visitor, slug: str) -> None:
    topic = (
        await Topic.select(Topic.id)
        .where((Topic.slug == slug) & Topic.active.eq(True))
        .first()
        .run()
    )
    if topic is None:
        raise ChatError("not_found", "нет такой темы")
    await (
        tables.Visitor.update({tables.Visitor.topic_id: topic["id"]})
        .where(tables.Visitor.token_hash == visitor.token_hash)
        .run()
    )


async def client_send(
    visitor: Visitor,
    client_id: uuid.UUID,
    text: str,
    reply_to: int | None = None,
    attachment_id: str | None = None,
) -> Sent:
    _require_content(text, attachment_id)
    # The one-statement path runs on a connection of its own, so a caller's transaction (a
    # channel's update, stored with its idempotency key) takes the general path, which joins it.
    plain_case = reply_to is None and attachment_id is None and not database.in_transaction()
    if visitor.subject_id is not None and plain_case:
        plain = await _client_send_plain(visitor, visitor.subject_id, client_id, text)
        if plain is not None:
            await notify.changed(plain.conversation, plain.version)
            return plain
    async with database.transaction():
        conn = database.connection()
        conversation = await conn.fetchrow(queries.LOCK_VISITORS_CONVERSATION, visitor.token_hash)
        first = False
        if conversation is None:
            subject_id, first = await _subject_for_first_message(conn, visitor)
            conversation = await _lock(conn, subject_id, queries.LOCK_SUBJECTS_CONVERSATION)
        subject_id = conversation["subject_id"]
        guarded = await masking.guard_text(conn, subject_id, text)
        sent = await _store(
            conn,
            conversation,
            SUBJECT,
            client_id,
            guarded.text,
            reply_to=reply_to,
            attachment_id=attachment_id,
            uploader=("subject", visitor.token_hash.hex()),
        )
        collected = (
            entries(Actor.subject(), subject_id, (Action.COLLECTION,), ("visitor_token",))
            if first
            else []
        )
        await processing_log.record(*masking.kept_entries(subject_id, guarded), *collected)
    await notify.changed(sent.conversation, sent.version)
    return Sent(sent.conversation, sent.seq, sent.version, guarded.masked)


async def _client_send_plain(
    visitor: Visitor, subject_id: uuid.UUID, client_id: uuid.UUID, text: str
) -> Sent | None:
    """The common case in one statement, so one round trip: a text without contacts from a
    visitor whose conversation exists. ``None`` sends it the general way (which also gives any
    refusal): no such conversation, or a resend racing its own first send."""
    if find_contacts(text):
        return None
    logged, values = processing_log.appending(
        entries(SUBJECT.actor, subject_id, STORE, ("message_text",)),
        4,
        when=queries.CLIENT_SEND_PLAIN_LOGS,
    )
    try:
        async with database.acquire() as conn:
            # The webhooks' CTEs join only while some endpoint wants the event (from memory).
            wanted = await webhook_events.wanted(conn, MESSAGE_CREATED)
            webhook = CLIENT_MESSAGE_CTES if wanted else ""
            row = await conn.fetchrow(
                # processing_log's CTEs go in as text; every value in them is a parameter.
                queries.CLIENT_SEND_PLAIN.format(logged=logged, webhook=webhook),
                visitor.token_hash,
                client_id,
                text,
                *values,
            )
    except asyncpg.UniqueViolationError:
        return None
    return Sent(row["conversation_id"], row["seq"], row["version"]) if row else None


async def _subject_for_first_message(
    conn: asyncpg.Connection, visitor: Visitor
) -> tuple[uuid.UUID, bool]:
    """The visitor's subject, made now if this is their first message (then ``True``). The
    visitor row is locked so two tabs sending their first messages at once make one subject."""
    row = await conn.fetchrow(queries.LOCK_VISITOR, visitor.token_hash)
    if row is None:
        raise ChatError("forbidden", "сеанс чата не найден, обновите страницу")
    if row["subject_id"] is not None:
        return row["subject_id"], False
    return await start_conversation(conn, visitor.token_hash, row["topic_id"]), True


async def start_conversation(
    conn: asyncpg.Connection, visitor_hash: bytes, topic_id: int | None
) -> uuid.UUID:
    subject_id = uuid.uuid4()
    await conn.execute(queries.NEW_SUBJECT, subject_id)
    await conn.execute(queries.BIND_VISITOR, visitor_hash, subject_id)
    team_id = await conn.fetchval(queries.TOPICS_TEAM, topic_id)
    if team_id is None:
        # No topic chosen (or one without a team): the default team's queue.
        team_id = await conn.fetchval(queries.DEFAULT_TEAM)
    conversation_id = await conn.fetchval(queries.NEW_CONVERSATION, subject_id, topic_id, team_id)
    await webhook_events.emit(
        conn,
        "conversation.created",
        {
            "conversation_id": conversation_id,
            "subject_id": str(subject_id),
            "topic_id": topic_id,
            "team_id": team_id,
        },
        conversation_id=conversation_id,
        subject_id=subject_id,
    )
    return subject_id


def _require_content(text: str, attachment_id: str | None) -> None:
    if not text.strip() and attachment_id is None:
        raise ChatError("invalid_frame", "пустое сообщение")


async def _lock(
    conn: asyncpg.Connection, key: object, query: str = queries.LOCK_CONVERSATION
) -> asyncpg.Record:
    """The conversation ``query`` finds by ``key`` (its id, unless told), row-locked."""
    row = await conn.fetchrow(query, key)
    if row is None:
        raise ChatError("not_found", "нет такого диалога")
    return row


async def _store(
    conn: asyncpg.Connection,
    conversation: asyncpg.Record,
    author: Author,
    client_id: uuid.UUID,
    text: str,
    *,
    reply_to: int | None = None,
    attachment_id: str | None = None,
    uploader: tuple[str, str] | None = None,
    internal: bool = False,
    buttons: list[dict[str, str]] | None = None,
    logged_as: Actor | None = None,
) -> Sent:
    """Store one message in the locked conversation; a repeated ``client_id`` stores nothing.
    The log names the author, or ``logged_as`` (an integration writing as an operator)."""
    conversation_id = conversation["id"]
    if reply_to is not None or attachment_id is not None:
        # A resend must not be refused for a reply target or a file that its first send used.
        earlier = await conn.fetchrow(queries.EARLIER_SEND, conversation_id, client_id)
        if earlier is not None:
            return Sent(conversation_id, earlier["seq"], earlier["version"])
        await _check_reply_target(conn, conversation_id, reply_to, internal)
        if attachment_id is not None:
            assert uploader is not None
            await attachments.claim(conn, attachment_id, conversation_id, *uploader)
    stored = await database.fetch_one(
        conn,
        queries.STORE_MESSAGE,
        conversation_id,
        client_id,
        author.kind,
        author.staff_id,
        text,
        reply_to,
        attachment_id,
        msgspec.json.encode(buttons or []).decode(),
        internal,
    )
    if not stored["fresh"]:
        return Sent(conversation_id, stored["seq"], stored["version"])
    if not internal:
        await webhook_events.emit(
            conn,
            MESSAGE_CREATED,
            {
                "conversation_id": conversation_id,
                "seq": stored["seq"],
                "author": WEBHOOK_AUTHORS[author.kind],
                "subject_id": str(conversation["subject_id"]),
            },
            conversation_id=conversation_id,
            subject_id=conversation["subject_id"],
            pd={"text": text},
        )
    if author.kind in ("subject", "staff"):
        fields = ("message_text", "attachment") if attachment_id else ("message_text",)
        await processing_log.record(
            *entries(logged_as or author.actor, conversation["subject_id"], STORE, fields)
        )
    return Sent(conversation_id, stored["seq"], stored["version"])


async def _check_reply_target(
    conn: asyncpg.Connection, conversation_id: int, reply_to: int | None, internal: bool
) -> None:
    if reply_to is None:
        return
    target = await conn.fetchrow(queries.REPLY_TARGET, conversation_id, reply_to)
    if target is None:
        raise ChatError("not_found", "сообщение, на которое вы отвечаете, не найдено")
    if target["internal"] and not internal:
        raise ChatError("forbidden", "на внутреннюю заметку можно ответить только заметкой")


# ---------------------------------------------------------------- both sides


async def client_edit(visitor: Visitor, seq: int, text: str | None) -> Sent:
    """The client edits (``text``) or deletes (``None``) one of their messages."""
    conversation_id = await client_conversation(visitor)
    if conversation_id is None:
        raise ChatError("not_found", "сообщение не найдено")
    return await _change_own(SUBJECT, conversation_id, seq, text)


async def staff_edit(scope: Scope, conversation_id: int, seq: int, text: str | None) -> Sent:
    await visible_conversation(scope, conversation_id)
    return await _change_own(Author("staff", scope.staff_id), conversation_id, seq, text)


async def _change_own(author: Author, conversation_id: int, seq: int, text: str | None) -> Sent:
    """Edit (``text``) or delete (``None``) the author's own message within the edit window."""
    window = timedelta(seconds=get_settings().edit_window_seconds)
    masked: tuple[str, ...] = ()
    async with database.transaction():
        conn = database.connection()
        conversation = await _lock(conn, conversation_id)
        message = (
            await Message.select(
                Message.author_kind,
                Message.author_id,
                Message.created_at,
                Message.deleted_at,
                Message.attachment_id,
            )
            .where(Message.key(conversation_id, seq))
            .first()
            .run()
        )
        if message is None or message["deleted_at"] is not None:
            raise ChatError("not_found", "сообщение не найдено")
        if (message["author_kind"], message["author_id"]) != (author.kind, author.staff_id):
            raise ChatError("edit_window", "изменять и удалять можно только свои сообщения")
        if datetime.now(UTC) - message["created_at"] > window:
            raise ChatError("edit_window", "время на изменение этого сообщения истекло")
        version = await next_version(conversation_id, touch=True)
        if text is not None and author.kind == "subject":
            guarded = await masking.guard_text(conn, conversation["subject_id"], text)
            text, masked = guarded.text, guarded.masked
            await processing_log.record(*masking.kept_entries(conversation["subject_id"], guarded))
        fields: tuple[str, ...]
        if text is not None:
            edited: queries.Values = {
                Message.body: text,
                Message.edited_at: queries.NOW,
                Message.version: version,
            }
            await Message.update(edited).where(Message.key(conversation_id, seq)).run()
            actions, fields = (Action.CLARIFICATION,), ("message_text",)
        else:
            deleted: queries.Values = {
                Message.body: "",
                Message.buttons: "[]",
                Message.deleted_at: queries.NOW,
                Message.version: version,
            }
            await Message.update(deleted).where(Message.key(conversation_id, seq)).run()
            fields = ("message_text",)
            if message["attachment_id"]:
                await attachments.erase(conn, message["attachment_id"])
                fields += ("attachment",)
            actions = (Action.DELETION,)
        await processing_log.record(
            *entries(author.actor, conversation["subject_id"], actions, fields)
        )
    await notify.changed(conversation_id, version)
    return Sent(conversation_id, seq, version, masked)


async def next_version(conversation_id: int, *, touch: bool = False) -> int:
    """A new version of the conversation, for a change that adds no message (in the caller's
    transaction); ``touch`` moves ``updated_at`` too, as an edit does."""
    values: queries.Values = {Conversation.last_version: Conversation.last_version + 1}
    if touch:
        values[Conversation.updated_at] = queries.NOW
    rows = (
        await Conversation.update(values)
        .where(Conversation.id == conversation_id)
        .returning(Conversation.last_version)
        .run()
    )
    return rows[0]["last_version"]


async def mark_read(side: str, conversation_id: int, seq: int) -> None:
    async with database.transaction():
        conn = database.connection()
        updated = await conn.fetchval(
            queries.READ_LOCK["client" if side == "client" else "staff"], conversation_id, seq
        )
        if updated and side == "staff":
            await conn.execute(queries.STAFF_READ, conversation_id, seq)
        elif updated:
            await conn.execute(queries.CLIENT_READ, conversation_id, seq)
    if updated:
        await notify.publish({"r": conversation_id, "s": side, "q": seq})


# ---------------------------------------------------------------- staff side


async def open_conversation(scope: Scope, conversation_id: int) -> asyncpg.Record:
    """An operator opens a conversation: its messages become visible to them (access)."""
    row = await visible_conversation(scope, conversation_id)
    async with database.transaction():
        await processing_log.record(
            *entries(
                Actor.staff(scope.staff_id), row["subject_id"], (Action.ACCESS,), ("message_text",)
            )
        )
    return row


async def staff_send(
    scope: Scope,
    conversation_id: int,
    client_id: uuid.UUID,
    text: str,
    reply_to: int | None = None,
    attachment_id: str | None = None,
    internal: bool = False,
) -> Sent:
    _require_content(text, attachment_id)
    await visible_conversation(scope, conversation_id)
    author = Author("staff", scope.staff_id)
    async with database.transaction():
        conn = database.connection()
        conversation = await _lock(conn, conversation_id)
        sent = await _store(
            conn,
            conversation,
            author,
            client_id,
            text,
            reply_to=reply_to,
            attachment_id=attachment_id,
            uploader=("staff", str(scope.staff_id)),
            internal=internal,
        )
        latest = sent.version
        if not internal and conversation["assignee_id"] is None:
            # Answering an unassigned client takes the conversation.
            latest = await assign_in_transaction(conn, conversation, scope.staff_id)
    await notify.changed(conversation_id, latest)
    return sent


async def send_for(
    actor: Actor,
    conversation_id: int,
    client_id: uuid.UUID,
    text: str,
    as_staff: int | None,
    internal: bool,
) -> Sent:
    """A message ``actor`` (an integration) sends as the bot, or as the chat staff member
    ``as_staff``, who then takes an unassigned conversation as a reply from the console does;
    the caller checked its right to the conversation. Logged with ``actor``."""
    if not text.strip():
        raise ChatError("invalid_frame", "пустое сообщение")
    if internal and as_staff is None:
        raise ChatError("invalid_frame", "внутреннюю заметку пишет сотрудник: укажите as_staff")
    async with database.transaction():
        conn = database.connection()
        if as_staff is not None:
            await _chat_staff(conn, as_staff)
        conversation = await _lock(conn, conversation_id)
        author = BOT if as_staff is None else Author("staff", as_staff)
        sent = await _store(
            conn, conversation, author, client_id, text, internal=internal, logged_as=actor
        )
        latest = sent.version
        if as_staff is not None and not internal and conversation["assignee_id"] is None:
            latest = await assign_in_transaction(conn, conversation, as_staff)
    await notify.changed(conversation_id, latest)
    return sent


async def assign_to(conversation_id: int, staff_id: int) -> int:
    """Give the conversation to the chat staff member ``staff_id`` (the caller checked its right
    to it); returns the conversation's version."""
    async with database.transaction():
        conn = database.connection()
        await _chat_staff(conn, staff_id)
        conversation = await _lock(conn, conversation_id)
        if conversation["assignee_id"] == staff_id:
            return int(conversation["last_version"])
        version = await assign_in_transaction(conn, conversation, staff_id)
    await notify.changed(conversation_id, version)
    return version


async def _chat_staff(conn: asyncpg.Connection, staff_id: int) -> None:
    if await conn.fetchval(queries.CHAT_STAFF, staff_id) is None:
        raise ChatError("not_found", "нет такого сотрудника с доступом к диалогам")


async def take(scope: Scope, conversation_id: int) -> int:
    conversation = await visible_conversation(scope, conversation_id)
    async with database.transaction():
        conn = database.connection()
        conversation = await _lock(conn, conversation_id)
        if conversation["assignee_id"] == scope.staff_id:
            return conversation["last_version"]
        if conversation["assignee_id"] is not None and not scope.sees_all:
            raise ChatError("conflict", "диалог уже взял другой оператор")
        version = await assign_in_transaction(conn, conversation, scope.staff_id)
    await notify.changed(conversation_id, version)
    return version


async def set_tags(conversation_id: int, tags: list[str]) -> list[str]:
    """Replace a conversation's tags (the caller checked it may see it); returns them sorted."""
    tags = sorted(set(tags))
    await (
        Conversation.update({Conversation.tags: tags})
        .where(Conversation.id == conversation_id)
        .run()
    )
    return tags


async def transfer(
    scope: Scope, conversation_id: int, to_staff: int | None, to_team: int | None
) -> int:
    await visible_conversation(scope, conversation_id)
    return await transfer_visible(Actor.staff(scope.staff_id), conversation_id, to_staff, to_team)


async def transfer_visible(
    actor: Actor, conversation_id: int, to_staff: int | None, to_team: int | None
) -> int:
    """``transfer`` once the caller's right to the conversation is checked; ``actor`` is logged."""
    if (to_staff is None) == (to_team is None):
        raise ChatError("invalid_frame", "укажите либо сотрудника, либо команду")
    async with database.transaction():
        conn = database.connection()
        conversation = await _lock(conn, conversation_id)
        if to_staff is not None:
            account = staff_tables.StaffUser
            target = (
                await account.select(account.pseudonym)
                .where(
                    (account.id == to_staff)
                    & account.disabled_at.is_null()
                    & account.role.is_in([role.value for role in CHAT_ROLES])
                )
                .first()
                .run()
            )
            if target is None:
                raise ChatError("not_found", "нет такого сотрудника")
            await conn.execute(queries.TO_STAFFS_TEAM, conversation_id, to_staff)
            version = await assign_in_transaction(conn, conversation, to_staff)
            reason = f"передача диалога сотруднику {target['pseudonym']}"
        else:
            team = (
                await Team.select(Team.name)
                .where((Team.id == to_team) & Team.archived_at.is_null())
                .first()
                .run()
            )
            if team is None:
                raise ChatError("not_found", "нет такой команды")
            await conn.execute(queries.TO_TEAMS_QUEUE, conversation_id, to_team)
            note = f"Диалог передан в команду «{team['name']}»"
            version = await system_note(conn, conversation_id, note)
            reason = "передача диалога в очередь команды"
        await webhook_events.emit(
            conn,
            "conversation.transferred",
            {
                "conversation_id": conversation_id,
                "subject_id": str(conversation["subject_id"]),
                "to_staff_id": to_staff,
                "to_team_id": to_team,
            },
            conversation_id=conversation_id,
            subject_id=conversation["subject_id"],
        )
        await processing_log.record(
            *entries(
                actor,
                conversation["subject_id"],
                (Action.ACCESS,),
                ("message_text",),
                reason=reason,
            )
        )
    await notify.changed(conversation_id, version)
    return version


STATUS_NOTES = {
    "resolved": ("Обращение закрыто. Напишите, если появятся вопросы.", False),
    "pending": ("Статус: ожидает ответа клиента", True),
    "open": ("Обращение снова открыто", False),
}


async def set_status(scope: Scope, conversation_id: int, status: str) -> int:
    await visible_conversation(scope, conversation_id)
    return await _set_status(conversation_id, status)


async def reopen_by_client(conversation_id: int) -> int:
    return await _set_status(conversation_id, "open")


async def set_status_visible(conversation_id: int, status: str) -> int:
    """``set_status`` once the caller's right to the conversation is checked."""
    return await _set_status(conversation_id, status)


async def _set_status(conversation_id: int, status: str) -> int:
    async with database.transaction():
        conn = database.connection()
        conversation = await _lock(conn, conversation_id)
        if conversation["status"] == status:
            return conversation["last_version"]
        waiting = status != "resolved" and conversation["assignee_id"] is None
        await conn.execute(queries.SET_STATUS, conversation_id, status, waiting)
        text, internal = STATUS_NOTES[status]
        version = await system_note(conn, conversation_id, text, internal=internal)
        if status == "resolved":
            await webhook_events.emit(
                conn,
                "conversation.resolved",
                {"conversation_id": conversation_id, "subject_id": str(conversation["subject_id"])},
                conversation_id=conversation_id,
                subject_id=conversation["subject_id"],
            )
    await notify.changed(conversation_id, version)
    return version


async def bot_message(
    conversation_id: int,
    text: str,
    buttons: list[dict[str, str]],
    *,
    links: list[dict[str, str]] | None = None,
    form: dict[str, Any] | None = None,
) -> Sent:
    """A bot line with inline buttons, links or a one-field form (the consent flow uses them)."""
    async with database.transaction():
        sent = await bot_message_in_transaction(
            database.connection(),
            conversation_id,
            uuid.uuid4(),
            text,
            buttons,
            links=links,
            form=form,
        )
    await notify.changed(sent.conversation, sent.version)
    return sent


async def bot_message_in_transaction(
    conn: asyncpg.Connection,
    conversation_id: int,
    client_id: uuid.UUID,
    text: str,
    buttons: list[dict[str, str]],
    *,
    links: list[dict[str, str]] | None = None,
    form: dict[str, Any] | None = None,
    image_id: str | None = None,
) -> Sent:
    """The same in the caller's transaction; a repeated ``client_id`` stores nothing (mailings
    rely on it to never send twice). The caller announces the change after commit."""
    conversation = await _lock(conn, conversation_id)
    sent = await _store(conn, conversation, BOT, client_id, text, buttons=buttons)
    if links or form or image_id:
        await conn.execute(
            queries.BOT_EXTRAS,
            conversation_id,
            sent.seq,
            msgspec.json.encode(links or []).decode(),
            msgspec.json.encode(form).decode() if form else None,
            image_id,
        )
    return sent


async def retire_buttons(
    conversation_id: int,
    seq: int,
    form: dict[str, Any] | None = None,
    *,
    chosen: str | None = None,
) -> int:
    """A bot question is answered once: its buttons (or form) go away in every tab. The
    button the client pressed (``chosen``, its id) stays as the echo of the answer, marked
    so no press of it is taken again (buttons.press)."""
    async with database.transaction():
        version = await next_version(conversation_id)
        kept = "[]"
        if chosen is not None:
            row = (
                await Message.select(Message.buttons)
                .where(Message.key(conversation_id, seq))
                .first()
                .run()
            )
            offered = msgspec.json.decode(row["buttons"]) if row else []
            kept = msgspec.json.encode(
                [{**item, "chosen": True} for item in offered if item["id"] == chosen]
            ).decode()
        retired: queries.Values = {Message.buttons: kept, Message.version: version}
        if form:
            retired[Message.form] = msgspec.json.encode(form).decode()
        await Message.update(retired).where(Message.key(conversation_id, seq)).run()
    await notify.changed(conversation_id, version)
    return version
