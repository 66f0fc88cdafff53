"""Canned replies: an operator's own, and shared ones that supervisors and admins add."""

from __future__ import annotations

from okno.platform.chat.errors import ChatError
from okno.platform.chat.schemas import CannedReply as Reply
from okno.platform.chat.tables import CannedReply
from okno.platform.staff.roles import Role
from okno.platform.staff.schemas import StaffUser

# Who may add and remove shared replies.
SHARED_BY = (Role.SUPERVISOR, Role.ADMIN)


async def replies_for(user: StaffUser) -> list[Reply]:
    """The shared canned replies and the user's own, by shortcut."""
    rows = (
        await CannedReply.select(
            CannedReply.id,
            CannedReply.shortcut,
            CannedReply.body,
            CannedReply.shared,
            CannedReply.owner_id,
        )
        .where(CannedReply.shared.eq(True) | (CannedReply.owner_id == user.id))
        .order_by(CannedReply.shortcut)
        .run()
    )
    return [
        Reply(r["id"], r["shortcut"], r["body"], r["shared"], r["owner_id"] == user.id)
        for r in rows
    ]


async def add(user: StaffUser, shortcut: str, text: str, shared: bool) -> Reply:
    """Add a canned reply of the user's; a shared one only if the role may share."""
    if shared and user.role == Role.OPERATOR:
        raise ChatError("forbidden", "общие шаблоны добавляют старшие операторы и администраторы")
    added = (
        await CannedReply.insert(
            CannedReply(owner_id=user.id, shortcut=shortcut, body=text, shared=shared)
        )
        .returning(CannedReply.id)
        .run()
    )
    return Reply(added[0]["id"], shortcut, text, shared, mine=True)


async def remove(user: StaffUser, reply_id: int) -> None:
    """Remove the user's own canned reply, or (supervisor, admin) a shared one."""
    mine = CannedReply.owner_id == user.id
    whose = mine | CannedReply.shared.eq(True) if user.role in SHARED_BY else mine
    removed = (
        await CannedReply.delete()
        .where((CannedReply.id == reply_id) & whose)
        .returning(CannedReply.id)
        .run()
    )
    if not removed:
        raise ChatError("not_found", "нет такого шаблона среди ваших")
