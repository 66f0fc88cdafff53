"""Conversations and messages. Every change is one transaction: the row, the conversation's
counters and the processing-log rows commit together; then the change is announced."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec

from okno.platform import database
from okno.platform.chat import attachments, notify
from okno.platform.chat.compliance import Actor, entries
from okno.platform.chat.errors import AccessEndedError, ChatError
from okno.platform.chat.visitors import Visitor
from okno.platform.consent import masking
from okno.platform.pd_detect import find_contacts
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action
from okno.platform.settings import get_settings
from okno.platform.staff.roles import Role
from okno.platform.staff.service import StaffUser, session_valid

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
SYSTEM = Author("system")
BOT = Author("bot")


class Scope(msgspec.Struct, frozen=True):
    """What a staff member may see: everything, or their teams and their own conversations.

    A socket's scope also carries its ``session`` (the token's hash): each frame that names a
    conversation re-checks the session, the role and the teams as they are in the database
    now (``visible_conversation``); the hub re-checks the scope of open sockets on every
    announcement of a change to the account (``staff.service.announce_sessions_ended``)."""

    staff_id: int
    sees_all: bool
    team_ids: frozenset[int]
    session: bytes | None = None

    def admits(self, team_id: int | None, assignee_id: int | None) -> bool:
        return self.sees_all or assignee_id == self.staff_id or team_id in self.team_ids


CHAT_ROLES = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN})
SEES_ALL = frozenset({Role.SUPERVISOR, Role.ADMIN})
SESSION_ENDED = 4401
ROLE_WITHOUT_CHAT = 4403


async def scope_of(user: StaffUser, session: bytes | None = None) -> Scope:
    if user.role not in CHAT_ROLES:
        return Scope(user.id, False, frozenset(), session)
    async with database.acquire() as conn:
        teams = await conn.fetch("SELECT team_id FROM team_member WHERE staff_id = $1", user.id)
    return Scope(user.id, user.role in SEES_ALL, frozenset(t["team_id"] for t in teams), session)


class SessionNow(msgspec.Struct, frozen=True):
    """A socket's session as it is now: its role, its scope, and when it expires."""

    role: Role
    scope: Scope
    expires_at: datetime


# Many sockets' sessions in one query: the hub re-checks them together.
SESSIONS_NOW = """
SELECT s.token_hash, u.id, u.role, s.expires_at,
       ARRAY(SELECT tm.team_id FROM team_member tm WHERE tm.staff_id = u.id) AS teams
FROM staff_session s JOIN staff_user u ON u.id = s.user_id
WHERE s.token_hash = ANY($1::bytea[]) AND {valid}
"""


async def sessions_now(conn: asyncpg.Connection, sessions: list[bytes]) -> dict[bytes, SessionNow]:
    """The sessions among ``sessions`` that are still valid, by token hash; the rest ended."""
    rows = await conn.fetch(SESSIONS_NOW.format(valid=session_valid()), sessions)
    found = {}
    for row in rows:
        role = Role(row["role"])
        scope = Scope(
            row["id"],
            role in SEES_ALL,
            frozenset(row["teams"]) if role in CHAT_ROLES else frozenset(),
            bytes(row["token_hash"]),
        )
        found[bytes(row["token_hash"])] = SessionNow(role, scope, row["expires_at"])
    return found


async def session_now(session: bytes) -> SessionNow:
    """One socket's session now, or ``AccessEndedError`` when it ended or its role lost chat."""
    async with database.acquire() as conn:
        found = (await sessions_now(conn, [session])).get(session)
    if found is None:
        raise AccessEndedError(SESSION_ENDED, "сеанс завершён: войдите снова")
    if found.role not in CHAT_ROLES:
        raise AccessEndedError(ROLE_WITHOUT_CHAT, "у вашей роли больше нет доступа к диалогам")
    return found


# ---------------------------------------------------------------- client side


def _advance(author_kind: str) -> str:
    """The SET clause that moves a conversation on by one message of ``author_kind`` (an SQL
    expression): counters, unread, and status. A client writing reopens a pending or resolved
    conversation; an unassigned one that is not resolved waits, since its first such message."""
    status = (
        f"CASE WHEN {author_kind} = 'subject' AND c.status IN ('pending', 'resolved')"
        " THEN CASE WHEN c.assignee_id IS NULL THEN 'new' ELSE 'open' END ELSE c.status END"
    )
    return (
        "last_seq = c.last_seq + 1, last_version = c.last_version + 1, updated_at = now(),"
        f" staff_unread = c.staff_unread + CASE WHEN {author_kind} = 'subject' THEN 1 ELSE 0 END,"
        f" status = {status},"
        f" waiting_since = CASE WHEN c.assignee_id IS NULL AND {status} <> 'resolved'"
        " THEN coalesce(c.waiting_since, now()) END"
    )


async def client_conversation(visitor: Visitor) -> int | None:
    if visitor.subject_id is None:
        return None
    async with database.acquire() as conn:
        return await conn.fetchval(
            "SELECT id FROM conversation WHERE subject_id = $1", visitor.subject_id
        )


async def choose_topic(visitor: Visitor, slug: str) -> None:
    async with database.acquire() as conn:
        topic_id = await conn.fetchval("SELECT id FROM topic WHERE slug = $1 AND active", slug)
        if topic_id is None:
            raise ChatError("not_found", "нет такой темы")
        await conn.execute(
            "UPDATE visitor SET topic_id = $2 WHERE token_hash = $1", visitor.token_hash, topic_id
        )


async def client_send(
    visitor: Visitor,
    client_id: uuid.UUID,
    text: str,
    reply_to: int | None = None,
    attachment_id: str | None = None,
) -> Sent:
    _require_content(text, attachment_id)
    if visitor.subject_id is not None and reply_to is None and attachment_id is None:
        plain = await _client_send_plain(visitor, visitor.subject_id, client_id, text)
        if plain is not None:
            await notify.changed(plain.conversation, plain.version)
            return plain
    async with database.transaction():
        conn = database.connection()
        conversation = await conn.fetchrow(
            f"SELECT {VISITORS_CONVERSATION_LOCKED} FROM visitor v"
            " JOIN conversation c ON c.subject_id = v.subject_id"
            " WHERE v.token_hash = $1 FOR UPDATE OF c",
            visitor.token_hash,
        )
        first = False
        if conversation is None:
            subject_id, first = await _subject_for_first_message(conn, visitor)
            conversation = await _lock(conn, "subject_id = $1", subject_id)
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
        when="EXISTS (SELECT 1 FROM stored)",
    )
    try:
        async with database.acquire() as conn:
            row = await conn.fetchrow(
                CLIENT_SEND_PLAIN.format(logged=logged),
                visitor.token_hash,
                client_id,
                text,
                *values,
            )
    except asyncpg.UniqueViolationError:
        return None
    return Sent(row["conversation_id"], row["seq"], row["version"]) if row else None


# The steps of client_send and _store in one statement: it runs as one transaction. The row
# lock of ``target`` is taken before ``counters`` updates the row, which then sees its latest
# version; ``earlier`` reads the statement's snapshot, and the unique (conversation, client_id)
# constraint catches a same-id send committed since (then the general way answers).
CLIENT_SEND_PLAIN = f"""
WITH target AS (
    SELECT c.id FROM visitor v JOIN conversation c ON c.subject_id = v.subject_id
    WHERE v.token_hash = $1 FOR UPDATE OF c
), earlier AS (
    SELECT m.conversation_id, m.seq, m.version FROM message m
    WHERE m.conversation_id = (SELECT id FROM target) AND m.client_id = $2
), counters AS (
    UPDATE conversation c SET {_advance("'subject'")}
    FROM target WHERE c.id = target.id AND NOT EXISTS (SELECT 1 FROM earlier)
    RETURNING c.id, c.last_seq, c.last_version
), stored AS (
    INSERT INTO message (conversation_id, seq, version, client_id, author_kind, body)
    SELECT id, last_seq, last_version, $2, 'subject', $3 FROM counters
    RETURNING conversation_id, seq, version
), {{logged}}
SELECT conversation_id, seq, version FROM stored
UNION ALL SELECT conversation_id, seq, version FROM earlier
"""


async def _subject_for_first_message(
    conn: asyncpg.Connection, visitor: Visitor
) -> tuple[uuid.UUID, bool]:
    """The visitor's subject, made now if this is their first message (then ``True``). The
    visitor row is locked so two tabs sending their first messages at once make one subject."""
    row = await conn.fetchrow(
        "SELECT subject_id, topic_id FROM visitor WHERE token_hash = $1 FOR UPDATE",
        visitor.token_hash,
    )
    if row is None:
        raise ChatError("forbidden", "сеанс чата не найден, обновите страницу")
    if row["subject_id"] is not None:
        return row["subject_id"], False
    return await start_conversation(conn, visitor.token_hash, row["topic_id"]), True


async def start_conversation(
    conn: asyncpg.Connection, visitor_hash: bytes, topic_id: int | None
) -> uuid.UUID:
    subject_id = uuid.uuid4()
    await conn.execute("INSERT INTO subject (id) VALUES ($1)", subject_id)
    await conn.execute(
        "UPDATE visitor SET subject_id = $2 WHERE token_hash = $1", visitor_hash, subject_id
    )
    team_id = await conn.fetchval("SELECT team_id FROM topic WHERE id = $1", topic_id)
    if team_id is None:
        # No topic chosen (or one without a team): the default team's queue.
        team_id = await conn.fetchval("SELECT id FROM team WHERE is_default")
    await conn.execute(
        "INSERT INTO conversation (subject_id, topic_id, team_id, waiting_since)"
        " VALUES ($1, $2, $3, now())",
        subject_id,
        topic_id,
        team_id,
    )
    return subject_id


def _require_content(text: str, attachment_id: str | None) -> None:
    if not text.strip() and attachment_id is None:
        raise ChatError("invalid_frame", "пустое сообщение")


CONVERSATION_LOCKED = "id, subject_id, status, assignee_id, team_id, last_seq, last_version"
VISITORS_CONVERSATION_LOCKED = ", ".join(f"c.{c}" for c in CONVERSATION_LOCKED.split(", "))


async def _lock(conn: asyncpg.Connection, where: str, key: object) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"SELECT {CONVERSATION_LOCKED} FROM conversation WHERE {where} FOR UPDATE",
        key,
    )
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
) -> Sent:
    """Store one message in the locked conversation; a repeated ``client_id`` stores nothing."""
    conversation_id = conversation["id"]
    if reply_to is not None or attachment_id is not None:
        # A resend must not be refused for a reply target or a file that its first send used.
        earlier = await conn.fetchrow(
            "SELECT seq, version FROM message WHERE conversation_id = $1 AND client_id = $2",
            conversation_id,
            client_id,
        )
        if earlier is not None:
            return Sent(conversation_id, earlier["seq"], earlier["version"])
        await _check_reply_target(conn, conversation_id, reply_to, internal)
        if attachment_id is not None:
            assert uploader is not None
            await attachments.claim(conn, attachment_id, conversation_id, *uploader)
    stored = await database.fetch_one(
        conn,
        STORE_MESSAGE,
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
    if author.kind in ("subject", "staff"):
        fields = ("message_text", "attachment") if attachment_id else ("message_text",)
        await processing_log.record(
            *entries(author.actor, conversation["subject_id"], STORE, fields)
        )
    return Sent(conversation_id, stored["seq"], stored["version"])


# One round trip: a repeated client_id returns the earlier message; otherwise the locked
# conversation's counters move on and the message takes them. The caller holds the row lock,
# so no concurrent send can slip a same-id message in between.
STORE_MESSAGE = f"""
WITH earlier AS (
    SELECT seq, version FROM message WHERE conversation_id = $1 AND client_id = $2
), counters AS (
    UPDATE conversation c SET {_advance("$3::text")}
    WHERE c.id = $1 AND NOT EXISTS (SELECT 1 FROM earlier)
    RETURNING c.last_seq, c.last_version
), stored AS (
    INSERT INTO message (conversation_id, seq, version, client_id, author_kind, author_id,
        body, reply_to, attachment_id, buttons, internal)
    SELECT $1, last_seq, last_version, $2, $3::text, $4::bigint, $5::text, $6::bigint,
        $7::text, $8::jsonb, $9::boolean
    FROM counters
    RETURNING seq, version
)
SELECT seq, version, true AS fresh FROM stored
UNION ALL SELECT seq, version, false FROM earlier
"""


async def _check_reply_target(
    conn: asyncpg.Connection, conversation_id: int, reply_to: int | None, internal: bool
) -> None:
    if reply_to is None:
        return
    target = await conn.fetchrow(
        "SELECT internal FROM message WHERE conversation_id = $1 AND seq = $2",
        conversation_id,
        reply_to,
    )
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
        conversation = await _lock(conn, "id = $1", conversation_id)
        message = await conn.fetchrow(
            "SELECT author_kind, author_id, created_at, deleted_at, attachment_id FROM message"
            " WHERE conversation_id = $1 AND seq = $2",
            conversation_id,
            seq,
        )
        if message is None or message["deleted_at"] is not None:
            raise ChatError("not_found", "сообщение не найдено")
        if (message["author_kind"], message["author_id"]) != (author.kind, author.staff_id):
            raise ChatError("edit_window", "изменять и удалять можно только свои сообщения")
        if datetime.now(UTC) - message["created_at"] > window:
            raise ChatError("edit_window", "время на изменение этого сообщения истекло")
        version = await conn.fetchval(
            "UPDATE conversation SET last_version = last_version + 1, updated_at = now()"
            " WHERE id = $1 RETURNING last_version",
            conversation_id,
        )
        if text is not None and author.kind == "subject":
            guarded = await masking.guard_text(conn, conversation["subject_id"], text)
            text, masked = guarded.text, guarded.masked
            await processing_log.record(*masking.kept_entries(conversation["subject_id"], guarded))
        fields: tuple[str, ...]
        if text is not None:
            await conn.execute(
                "UPDATE message SET body = $3, edited_at = now(), version = $4"
                " WHERE conversation_id = $1 AND seq = $2",
                conversation_id,
                seq,
                text,
                version,
            )
            actions, fields = (Action.CLARIFICATION,), ("message_text",)
        else:
            await conn.execute(
                "UPDATE message SET body = '', buttons = '[]', deleted_at = now(), version = $3"
                " WHERE conversation_id = $1 AND seq = $2",
                conversation_id,
                seq,
                version,
            )
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


async def mark_read(side: str, conversation_id: int, seq: int) -> None:
    column = "client_read_seq" if side == "client" else "staff_read_seq"
    async with database.transaction():
        conn = database.connection()
        # The row lock first: the recount below then sees every message committed before it.
        updated = await conn.fetchval(
            f"SELECT id FROM conversation WHERE id = $1 AND {column} < $2 AND $2 <= last_seq"
            " FOR UPDATE",
            conversation_id,
            seq,
        )
        if updated and side == "staff":
            await conn.execute(
                "UPDATE conversation SET staff_read_seq = $2, staff_unread = (SELECT count(*)"
                " FROM message WHERE conversation_id = $1 AND author_kind = 'subject'"
                " AND seq > $2) WHERE id = $1",
                conversation_id,
                seq,
            )
        elif updated:
            await conn.execute(
                "UPDATE conversation SET client_read_seq = $2 WHERE id = $1", conversation_id, seq
            )
    if updated:
        await notify.publish({"r": conversation_id, "s": side, "q": seq})


# ---------------------------------------------------------------- staff side


# One round trip: the conversation, whether its subject is blocked, and who asks as they are
# now: a socket's session ($3) must still be valid, and role and teams are read afresh.
VISIBLE_CONVERSATION = """
SELECT c.id, c.subject_id, c.team_id, c.assignee_id, c.status,
       coalesce(sub.blocked_at IS NOT NULL, false) AS blocked, who.role,
       (who.role IN ('supervisor', 'admin') OR c.assignee_id = $2 OR EXISTS (
           SELECT 1 FROM team_member tm WHERE tm.staff_id = $2 AND tm.team_id = c.team_id
       )) AS admitted
FROM (SELECT 1) AS one
LEFT JOIN conversation c ON c.id = $1
LEFT JOIN subject sub ON sub.id = c.subject_id
LEFT JOIN LATERAL (
    SELECT u.role FROM staff_user u WHERE u.id = $2 AND u.disabled_at IS NULL AND $3::bytea IS NULL
    UNION ALL
    SELECT u.role FROM staff_session s JOIN staff_user u ON u.id = s.user_id
    WHERE s.token_hash = $3 AND u.id = $2 AND {valid}
) who ON true
"""


async def visible_conversation(scope: Scope, conversation_id: int) -> asyncpg.Record:
    async with database.acquire() as conn:
        row = await conn.fetchrow(
            VISIBLE_CONVERSATION.format(valid=session_valid()),
            conversation_id,
            scope.staff_id,
            scope.session,
        )
    assert row is not None  # FROM (SELECT 1): always one row
    if row["role"] is None:
        if scope.session is not None:
            raise AccessEndedError(SESSION_ENDED, "сеанс завершён: войдите снова")
        raise ChatError("not_found", "нет такого диалога или он вам недоступен")
    if row["role"] not in CHAT_ROLES and scope.session is not None:
        raise AccessEndedError(ROLE_WITHOUT_CHAT, "у вашей роли больше нет доступа к диалогам")
    if row["role"] not in CHAT_ROLES or row["id"] is None or not row["admitted"]:
        raise ChatError("not_found", "нет такого диалога или он вам недоступен")
    # Blocking (okno.platform.rights.blocking): a blocked subject's conversation is closed
    # to staff until the DPO unblocks it; every staff action goes through this check.
    if row["blocked"]:
        raise ChatError(
            "blocked",
            "данные клиента заблокированы ответственным за обработку ПДн на время проверки",
        )
    return row


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
        conversation = await _lock(conn, "id = $1", conversation_id)
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


async def take(scope: Scope, conversation_id: int) -> int:
    conversation = await visible_conversation(scope, conversation_id)
    async with database.transaction():
        conn = database.connection()
        conversation = await _lock(conn, "id = $1", conversation_id)
        if conversation["assignee_id"] == scope.staff_id:
            return conversation["last_version"]
        if conversation["assignee_id"] is not None and not scope.sees_all:
            raise ChatError("conflict", "диалог уже взял другой оператор")
        version = await assign_in_transaction(conn, conversation, scope.staff_id)
    await notify.changed(conversation_id, version)
    return version


async def assign_in_transaction(
    conn: asyncpg.Connection, conversation: asyncpg.Record, staff_id: int
) -> int:
    await conn.execute(
        "UPDATE conversation SET assignee_id = $2, waiting_since = NULL,"
        " status = CASE WHEN status = 'new' THEN 'open' ELSE status END WHERE id = $1",
        conversation["id"],
        staff_id,
    )
    await conn.execute(
        "INSERT INTO staff_presence (staff_id, status, last_assigned_at)"
        " VALUES ($1, 'offline', now())"
        " ON CONFLICT (staff_id) DO UPDATE SET last_assigned_at = now()",
        staff_id,
    )
    name = await conn.fetchval("SELECT display_name FROM staff_user WHERE id = $1", staff_id)
    return await system_note(conn, conversation["id"], f"К диалогу подключился оператор {name}")


async def system_note(
    conn: asyncpg.Connection, conversation_id: int, text: str, *, internal: bool = False
) -> int:
    """A service line in the conversation (who joined, status changes); returns its version."""
    counters = await database.fetch_one(
        conn,
        "UPDATE conversation SET last_seq = last_seq + 1, last_version = last_version + 1,"
        " updated_at = now() WHERE id = $1 RETURNING last_seq, last_version",
        conversation_id,
    )
    await conn.execute(
        "INSERT INTO message"
        " (conversation_id, seq, version, client_id, author_kind, body, internal)"
        " VALUES ($1, $2, $3, $4, 'system', $5, $6)",
        conversation_id,
        counters["last_seq"],
        counters["last_version"],
        uuid.uuid4(),
        text,
        internal,
    )
    return counters["last_version"]


async def set_tags(conversation_id: int, tags: list[str]) -> list[str]:
    """Replace a conversation's tags (the caller checked it may see it); returns them sorted."""
    tags = sorted(set(tags))
    async with database.acquire() as conn:
        await conn.execute("UPDATE conversation SET tags = $2 WHERE id = $1", conversation_id, tags)
    return tags


async def transfer(
    scope: Scope, conversation_id: int, to_staff: int | None, to_team: int | None
) -> int:
    if (to_staff is None) == (to_team is None):
        raise ChatError("invalid_frame", "укажите либо сотрудника, либо команду")
    await visible_conversation(scope, conversation_id)
    async with database.transaction():
        conn = database.connection()
        conversation = await _lock(conn, "id = $1", conversation_id)
        if to_staff is not None:
            target = await conn.fetchrow(
                "SELECT display_name, pseudonym FROM staff_user"
                " WHERE id = $1 AND disabled_at IS NULL"
                " AND role IN ('operator', 'supervisor', 'admin')",
                to_staff,
            )
            if target is None:
                raise ChatError("not_found", "нет такого сотрудника")
            await conn.execute(
                "UPDATE conversation SET team_id = coalesce("
                " (SELECT min(team_id) FROM team_member WHERE staff_id = $2), team_id)"
                " WHERE id = $1",
                conversation_id,
                to_staff,
            )
            version = await assign_in_transaction(conn, conversation, to_staff)
            reason = f"передача диалога сотруднику {target['pseudonym']}"
        else:
            team = await conn.fetchval(
                "SELECT name FROM team WHERE id = $1 AND archived_at IS NULL", to_team
            )
            if team is None:
                raise ChatError("not_found", "нет такой команды")
            await conn.execute(
                "UPDATE conversation SET team_id = $2, assignee_id = NULL, waiting_since = now(),"
                " status = CASE WHEN status = 'resolved' THEN status ELSE 'new' END WHERE id = $1",
                conversation_id,
                to_team,
            )
            version = await system_note(conn, conversation_id, f"Диалог передан в команду «{team}»")
            reason = "передача диалога в очередь команды"
        await processing_log.record(
            *entries(
                Actor.staff(scope.staff_id),
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


async def _set_status(conversation_id: int, status: str) -> int:
    async with database.transaction():
        conn = database.connection()
        conversation = await _lock(conn, "id = $1", conversation_id)
        if conversation["status"] == status:
            return conversation["last_version"]
        waiting = status != "resolved" and conversation["assignee_id"] is None
        await conn.execute(
            "UPDATE conversation SET status = $2,"
            " waiting_since = CASE WHEN $3 THEN coalesce(waiting_since, now()) END WHERE id = $1",
            conversation_id,
            status,
            waiting,
        )
        text, internal = STATUS_NOTES[status]
        version = await system_note(conn, conversation_id, text, internal=internal)
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
    conversation = await _lock(conn, "id = $1", conversation_id)
    sent = await _store(conn, conversation, BOT, client_id, text, buttons=buttons)
    if links or form or image_id:
        await conn.execute(
            "UPDATE message SET links = $3, form = $4, attachment_id = $5"
            " WHERE conversation_id = $1 AND seq = $2",
            conversation_id,
            sent.seq,
            msgspec.json.encode(links or []).decode(),
            msgspec.json.encode(form).decode() if form else None,
            image_id,
        )
    return sent


async def retire_buttons(conversation_id: int, seq: int, form: dict[str, Any] | None = None) -> int:
    """A bot question is answered once: its buttons (or form) go away in every tab."""
    async with database.transaction():
        conn = database.connection()
        version = await conn.fetchval(
            "UPDATE conversation SET last_version = last_version + 1 WHERE id = $1"
            " RETURNING last_version",
            conversation_id,
        )
        await conn.execute(
            "UPDATE message SET buttons = '[]', version = $3,"
            " form = coalesce($4::jsonb, form) WHERE conversation_id = $1 AND seq = $2",
            conversation_id,
            seq,
            version,
            msgspec.json.encode(form).decode() if form else None,
        )
    await notify.changed(conversation_id, version)
    return version
