"""The chat's HTTP API: history pages, uploads, conversation lists, profiles, canned replies."""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import ClientException, NotFoundException, PermissionDeniedException
from litestar.params import FromPath, FromQuery, JSONBody, MultipartBody
from litestar.response import File

from okno.platform import database
from okno.platform.chat import attachments, compliance, messages, service, special, summaries
from okno.platform.chat.compliance import Actor, entries
from okno.platform.chat.errors import ChatError
from okno.platform.chat.visitors import VISITOR_COOKIE, Visitor
from okno.platform.chat.visitors import find as find_visitor
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action
from okno.platform.staff.roles import Role
from okno.platform.subjects.fields import FIELDS
from okno.platform.web.access import current_staff, staff, visitor_guard

CHAT_STAFF = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)
Limit = Annotated[int, msgspec.Meta(ge=1, le=200)]


class Upload(msgspec.Struct):
    file: UploadFile


TAG_PATTERN = r"^[a-zа-яё0-9_-]{1,30}$"


class TagsIn(msgspec.Struct, forbid_unknown_fields=True):
    tags: Annotated[
        list[Annotated[str, msgspec.Meta(pattern=TAG_PATTERN)]],
        msgspec.Meta(max_length=10),
    ]


class SpecialIn(msgspec.Struct, forbid_unknown_fields=True):
    category: Annotated[str, msgspec.Meta(pattern=r"^[a-z_]{1,40}$")]


class CannedReplyIn(msgspec.Struct, forbid_unknown_fields=True):
    shortcut: Annotated[str, msgspec.Meta(pattern=r"^[a-zа-яё0-9_-]{1,30}$")]
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    shared: bool = False


def _refuse(error: ChatError) -> ClientException:
    status = {
        "not_found": 404,
        "forbidden": 403,
        "blocked": 403,  # the subject is blocked (okno.platform.rights.blocking)
        "too_large": 413,
        "conflict": 409,
    }.get(error.code, 400)
    exception = NotFoundException if status == 404 else ClientException
    return exception(detail=str(error), status_code=status)


async def _upload(data: Upload, uploader_kind: str, uploader_id: str) -> attachments.Attachment:
    try:
        return await attachments.store(
            await data.file.read(), data.file.filename, uploader_kind, uploader_id
        )
    except ChatError as refused:
        raise _refuse(refused) from None


class ClientChatApi(Controller):
    path = "/api/chat"
    guards = (visitor_guard,)
    tags = ("client chat",)

    @get("/messages")
    async def history(
        self, request: Request, before: FromQuery[int | None] = None, limit: FromQuery[Limit] = 50
    ) -> dict[str, Any]:
        """Older messages of the client's own conversation, oldest first."""
        visitor: Visitor = request.state.visitor
        conversation = await service.client_conversation(visitor)
        if conversation is None:
            return {"messages": []}
        async with database.acquire() as conn:
            rows = await messages.page_before(conn, conversation, before, limit, for_client=True)
        return {"messages": [messages.wire(row, for_client=True) for row in rows]}

    @post("/attachments", status_code=201, opt={"upload": True})
    async def upload(self, request: Request, data: MultipartBody[Upload]) -> attachments.Attachment:
        """Store a file to send with the next message."""
        visitor: Visitor = request.state.visitor
        return await _upload(data, "subject", visitor.token_hash.hex())


class StaffChatApi(Controller):
    path = "/api/staff"
    guards = (staff(*CHAT_STAFF),)
    tags = ("operator console",)

    async def _scope(self, request: Request) -> service.Scope:
        user = await current_staff(request)
        assert user is not None
        return await service.scope_of(user)

    @get("/conversations")
    async def conversations(
        self,
        request: Request,
        box: FromQuery[str] = "mine",
        q: FromQuery[str | None] = None,
        tag: FromQuery[str | None] = None,
    ) -> dict[str, Any]:
        """Conversations in one box (queue, mine, team, all), optionally matching a search or
        carrying a tag."""
        scope = await self._scope(request)
        where, args = _box(scope, box)
        if tag:
            if not re.fullmatch(TAG_PATTERN, tag):
                raise ClientException("метка: строчные буквы, цифры, _ и -, до 30 символов")
            where += f" AND ${len(args) + 2} = ANY(c.tags)"
            args.append(tag)
        # Blocked subjects' conversations are not listed (okno.platform.rights.blocking).
        where += " AND NOT EXISTS (SELECT 1 FROM subject bs WHERE bs.id = c.subject_id"
        where += " AND bs.blocked_at IS NOT NULL)"
        if q:
            if len(q) > 200:
                raise ClientException("слишком длинный запрос поиска")
            number = re.fullmatch(r"#?(\d{1,12})", q.strip())
            if number:
                where += f" AND c.id = ${len(args) + 2}"
                args.append(int(number.group(1)))
            else:
                where += (
                    f" AND EXISTS (SELECT 1 FROM message sm WHERE sm.conversation_id = c.id"
                    f" AND sm.deleted_at IS NULL AND sm.special_category IS NULL"
                    f" AND sm.body ILIKE ${len(args) + 2})"
                )
                args.append(
                    "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                )
        async with database.acquire() as conn:
            rows = await summaries.fetch(
                conn, f"{where} ORDER BY c.status = 'resolved', c.updated_at DESC LIMIT 200", *args
            )
        await compliance.list_viewed(scope.staff_id, box, len(rows), searched=bool(q))
        return {"conversations": [summaries.for_staff(row) for row in rows]}

    @get("/conversations/{conversation_id:int}/messages")
    async def history(
        self,
        request: Request,
        conversation_id: FromPath[int],
        before: FromQuery[int | None] = None,
        limit: FromQuery[Limit] = 50,
    ) -> dict[str, Any]:
        """Older messages of a conversation the caller may see, oldest first."""
        scope = await self._scope(request)
        try:
            await service.visible_conversation(scope, conversation_id)
        except ChatError as refused:
            raise _refuse(refused) from None
        async with database.acquire() as conn:
            rows = await messages.page_before(
                conn, conversation_id, before, limit, for_client=False
            )
        return {"messages": [messages.wire(row, for_client=False) for row in rows]}

    @get("/conversations/{conversation_id:int}/profile")
    async def profile(self, request: Request, conversation_id: FromPath[int]) -> dict[str, Any]:
        """The client's profile panel; showing PD fields to the operator is logged as access."""
        scope = await self._scope(request)
        try:
            conversation = await service.visible_conversation(scope, conversation_id)
        except ChatError as refused:
            raise _refuse(refused) from None
        subject_id = conversation["subject_id"]
        async with database.transaction():
            conn = database.connection()
            # The conversation's subject (a foreign key; subject rows are never deleted).
            subject = await database.fetch_one(
                conn, "SELECT created_at FROM subject WHERE id = $1", subject_id
            )
            # Only fields under a consent that is still in force, and not blocked.
            rows = await conn.fetch(
                "SELECT f.field, f.value FROM subject_field f WHERE f.subject_id = $1"
                " AND f.blocked_at IS NULL AND NOT EXISTS"
                " (SELECT 1 FROM consent_event w WHERE w.given_id = f.consent_id)"
                " ORDER BY f.field",
                subject_id,
            )
            consents = await conn.fetch(
                "SELECT p.code, p.name, p.fields, g.id AS consent_id, g.at FROM purpose p"
                " LEFT JOIN LATERAL (SELECT id, at FROM consent_event g WHERE g.subject_id = $1"
                "  AND g.purpose_code = p.code AND g.kind = 'given' AND NOT EXISTS"
                "  (SELECT 1 FROM consent_event w WHERE w.given_id = g.id)"
                "  ORDER BY id DESC LIMIT 1) g ON true ORDER BY p.code",
                subject_id,
            )
            shown = tuple(row["field"] for row in rows)
            if shown:
                await processing_log.record(
                    *entries(Actor.staff(scope.staff_id), subject_id, (Action.ACCESS,), shown)
                )
        support = next((c for c in consents if c["code"] == "support"), None)
        requestable = (
            [f for f in support["fields"] if FIELDS[f].collectable_in_chat]
            if support is not None and support["consent_id"] is not None
            else []
        )
        return {
            "subject_id": str(subject_id),
            "label": f"Клиент #{conversation_id}",
            "created_at": subject["created_at"],
            "fields": [
                {
                    "name": row["field"],
                    "label": FIELDS[row["field"]].label,
                    "value": row["value"],
                    "category": FIELDS[row["field"]].category.value,
                }
                for row in rows
            ],
            "consents": [
                {
                    "purpose": c["code"],
                    "name": c["name"],
                    "active": c["consent_id"] is not None,
                    "since": c["at"],
                }
                for c in consents
            ],
            "requestable": [{"name": f, "label": FIELDS[f].label} for f in requestable],
            "conversations": 1,
        }

    @post("/conversations/{conversation_id:int}/messages/{seq:int}/special", status_code=200)
    async def mark_special(
        self,
        request: Request,
        conversation_id: FromPath[int],
        seq: FromPath[int],
        data: JSONBody[SpecialIn],
    ) -> dict[str, Any]:
        """Mark a client's message as special-category data: hidden from staff, for the DPO."""
        user = await current_staff(request)
        assert user is not None
        try:
            await special.flag(user, conversation_id, seq, data.category)
        except ChatError as refused:
            raise _refuse(refused) from None
        return {"conversation": conversation_id, "seq": seq, "special": data.category}

    @post("/conversations/{conversation_id:int}/tags")
    async def set_tags(
        self, request: Request, conversation_id: FromPath[int], data: JSONBody[TagsIn]
    ) -> dict[str, Any]:
        """Replace a conversation's tags (mailing audiences and search use them)."""
        scope = await self._scope(request)
        try:
            await service.visible_conversation(scope, conversation_id)
        except ChatError as refused:
            raise _refuse(refused) from None
        tags = await service.set_tags(conversation_id, data.tags)
        return {"id": conversation_id, "tags": tags}

    @get("/directory")
    async def directory(self) -> dict[str, Any]:
        """Colleagues and teams a conversation can be transferred to."""
        async with database.acquire() as conn:
            people = await conn.fetch(
                "SELECT u.id, u.display_name,"
                " CASE WHEN p.status IS NULL OR p.seen_at < now() - make_interval(secs => $1)"
                "  THEN 'offline' ELSE p.status END AS presence,"
                " coalesce(array_agg(tm.team_id) FILTER (WHERE tm.team_id IS NOT NULL), '{}')"
                " AS teams"
                " FROM staff_user u LEFT JOIN staff_presence p ON p.staff_id = u.id"
                " LEFT JOIN team_member tm ON tm.staff_id = u.id"
                " WHERE u.disabled_at IS NULL AND u.role IN ('operator', 'supervisor', 'admin')"
                " GROUP BY u.id, p.status, p.seen_at ORDER BY u.display_name",
                summaries.get_settings().presence_timeout_seconds,
            )
            teams = await conn.fetch(
                "SELECT id, name FROM team WHERE archived_at IS NULL ORDER BY name"
            )
        return {
            "staff": [
                {
                    "id": p["id"],
                    "name": p["display_name"],
                    "presence": p["presence"],
                    "teams": list(p["teams"]),
                }
                for p in people
            ],
            "teams": [{"id": t["id"], "name": t["name"]} for t in teams],
        }

    @get("/canned")
    async def canned(self, request: Request) -> list[dict[str, Any]]:
        """Shared canned replies and the caller's own."""
        user = await current_staff(request)
        assert user is not None
        async with database.acquire() as conn:
            rows = await conn.fetch(
                "SELECT id, shortcut, body, shared, owner_id FROM canned_reply"
                " WHERE shared OR owner_id = $1 ORDER BY shortcut",
                user.id,
            )
        return [
            {
                "id": r["id"],
                "shortcut": r["shortcut"],
                "text": r["body"],
                "shared": r["shared"],
                "mine": r["owner_id"] == user.id,
            }
            for r in rows
        ]

    @post("/canned", status_code=201)
    async def add_canned(self, request: Request, data: JSONBody[CannedReplyIn]) -> dict[str, Any]:
        """Add a canned reply; shared ones are for supervisors and admins to add."""
        user = await current_staff(request)
        assert user is not None
        if data.shared and user.role == Role.OPERATOR:
            raise PermissionDeniedException(
                "общие шаблоны добавляют старшие операторы и администраторы"
            )
        async with database.acquire() as conn:
            reply_id = await conn.fetchval(
                "INSERT INTO canned_reply (owner_id, shortcut, body, shared)"
                " VALUES ($1, $2, $3, $4) RETURNING id",
                user.id,
                data.shortcut,
                data.text,
                data.shared,
            )
        return {
            "id": reply_id,
            "shortcut": data.shortcut,
            "text": data.text,
            "shared": data.shared,
            "mine": True,
        }

    @delete("/canned/{reply_id:int}", status_code=204)
    async def remove_canned(self, request: Request, reply_id: FromPath[int]) -> None:
        """Remove one's own canned reply, or (supervisor, admin) a shared one."""
        user = await current_staff(request)
        assert user is not None
        async with database.acquire() as conn:
            removed = await conn.fetchval(
                "DELETE FROM canned_reply WHERE id = $1 AND (owner_id = $2 OR (shared AND $3))"
                " RETURNING id",
                reply_id,
                user.id,
                user.role in (Role.SUPERVISOR, Role.ADMIN),
            )
        if removed is None:
            raise NotFoundException("нет такого шаблона среди ваших")

    @post("/attachments", status_code=201, opt={"upload": True})
    async def upload(self, request: Request, data: MultipartBody[Upload]) -> attachments.Attachment:
        """Store a file to send with the next message."""
        user = await current_staff(request)
        assert user is not None
        return await _upload(data, "staff", str(user.id))


def _box(scope: service.Scope, box: str) -> tuple[str, list[Any]]:
    teams = list(scope.team_ids)
    visible = "true" if scope.sees_all else "(c.team_id = ANY($2::int[]) OR c.assignee_id = $3)"
    args: list[Any] = [] if scope.sees_all else [teams, scope.staff_id]
    me = f"${len(args) + 2}"
    if box == "queue":
        return f"{visible} AND c.assignee_id IS NULL AND c.status <> 'resolved'", args
    if box == "mine":
        return f"{visible} AND c.assignee_id = {me}", [*args, scope.staff_id]
    if box == "team":
        return f"{visible} AND c.team_id = ANY({me}::int[])", [*args, teams]
    if box == "all":
        if not scope.sees_all:
            raise PermissionDeniedException("все диалоги видят старшие операторы и администраторы")
        return "true", args
    raise ClientException("box: queue, mine, team или all")


class AttachmentFiles(Controller):
    path = "/attachments"
    include_in_schema = False

    @get("/{attachment_id:str}/{name:str}", opt={"access": "subject-or-staff"})
    async def download(
        self, request: Request, attachment_id: FromPath[str], name: FromPath[str]
    ) -> Response[Any]:
        """The file, for the conversation's client or staff who may see the conversation."""
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,64}", attachment_id):
            raise NotFoundException("нет такого файла")
        found = await attachments.readable_file(attachment_id)
        if found is None or not await _may_read(request, found[0]):
            raise NotFoundException("нет такого файла")
        row, path = found
        user = await current_staff(request)
        if user is not None and row["subject_id"] is not None:
            await attachments.staff_read(user.id, row["subject_id"])
        response = File(
            path,
            filename=row["name"],
            media_type=row["content_type"],
            content_disposition_type="inline" if row["image"] else "attachment",
        )
        response.headers["content-security-policy"] = (
            "default-src 'none'; sandbox; frame-ancestors 'none'"
        )
        response.headers["cache-control"] = "private, max-age=3600"
        return response


async def _may_read(request: Request, row: Any) -> bool:
    user = await current_staff(request)
    if user is not None:
        if row["conversation_id"] is None:
            # Unsent uploads are the uploader's; a staff file sent as a mailing (no single
            # conversation) is readable by chat staff once a message carries it.
            if row["uploader_kind"] != "staff":
                return False
            if row["uploader_id"] == str(user.id):
                return True
            return user.role in CHAT_STAFF and await _sent_in_a_message(row["id"])
        scope = await service.scope_of(user)
        if row["subject_id"] is not None and await _blocked(row["subject_id"]):
            return False  # blocked subject: no files for staff (okno.platform.rights.blocking)
        if row["special"]:
            return False  # a special category: only the DPO's console shows it
        return scope.admits(row["team_id"], row["assignee_id"])
    visitor = await find_visitor(request.cookies.get(VISITOR_COOKIE))
    if visitor is None:
        return False
    if row["uploader_kind"] == "subject" and row["uploader_id"] == visitor.token_hash.hex():
        return True
    if visitor.subject_id is None:
        return False
    if row["subject_id"] == visitor.subject_id:
        return True
    # A file sent to many conversations (a mailing's image) is readable where it was sent.
    async with database.acquire() as conn:
        return bool(
            await conn.fetchval(
                "SELECT 1 FROM message m JOIN conversation c ON c.id = m.conversation_id"
                " WHERE m.attachment_id = $1 AND c.subject_id = $2 AND m.deleted_at IS NULL",
                row["id"],
                visitor.subject_id,
            )
        )


async def _blocked(subject_id: Any) -> bool:
    async with database.acquire() as conn:
        return bool(
            await conn.fetchval(
                "SELECT blocked_at IS NOT NULL FROM subject WHERE id = $1", subject_id
            )
        )


route_handlers = [ClientChatApi, StaffChatApi, AttachmentFiles]


async def _sent_in_a_message(attachment_id: str) -> bool:
    async with database.acquire() as conn:
        return bool(
            await conn.fetchval(
                "SELECT 1 FROM message WHERE attachment_id = $1 AND deleted_at IS NULL LIMIT 1",
                attachment_id,
            )
        )
