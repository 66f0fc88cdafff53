"""Destruction of what the portal keeps about a subject: sessions, sign-in codes, exports, and
the letters in the outbox folder (files, overwritten before they are deleted, and their rows);
and the portal's one-click «Удалить мои данные»."""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg
import msgspec

from okno.platform import database
from okno.platform.consent import service as consent
from okno.platform.erasure.files import defer_unlink
from okno.platform.erasure.registry import eraser, not_pd
from okno.platform.mail import outbox_folder
from okno.platform.rights import requests as rights
from okno.platform.rights.deadlines import RequestKind
from okno.platform.selfservice import queries, subject
from okno.platform.selfservice.compliance import WITHDRAWAL_BASIS, log_blocking
from okno.platform.selfservice.tables import MailOutbox, PortalCode, PortalExport, PortalSession

DELETE_CONTROL = "button:Удалить мои данные"


def _letters(paths: list[str]) -> list[Path]:
    folder = outbox_folder().resolve()
    # Never outside the outbox, whatever the row says.
    return [path for path in (Path(name).resolve() for name in paths) if path.parent == folder]


@eraser(
    "portal",
    columns=(
        "mail_outbox.path",
        "portal_export.body",
        "portal_code.address_hash",
        "portal_code.login_hash",
        "portal_code.code_hash",
        "portal_code.ip_hash",
        "portal_session.token_hash",
    ),
)
async def erase_portal(conn: asyncpg.Connection, subject_id: uuid.UUID) -> dict[str, int]:
    # Runs in destruction's transaction (on ``conn``), which the query builder joins.
    letters = (
        await MailOutbox.delete()
        .where(MailOutbox.subject_id == subject_id)
        .returning(MailOutbox.path)
        .run()
    )
    defer_unlink(_letters([row["path"] for row in letters]))
    exports = (
        await PortalExport.delete()
        .where(PortalExport.subject_id == subject_id)
        .returning(PortalExport.id)
        .run()
    )
    sessions = (
        await PortalSession.delete()
        .where(PortalSession.subject_id == subject_id)
        .returning(PortalSession.subject_id)
        .run()
    )
    codes = (
        await PortalCode.delete()
        .where(PortalCode.subject_id == subject_id)
        .returning(PortalCode.id)
        .run()
    )
    return {
        "письма в папке исходящих": len(letters),
        "выгрузки данных": len(exports),
        "сеансы «Моих данных»": len(sessions),
        "коды входа": len(codes),
    }


not_pd(
    "mail_outbox.id",
    "portal_export.id",
    "portal_export.format",
    "portal_session.via",
    reason="ids and kinds of the portal's rows",
)


class DeletionFiled(msgspec.Struct, frozen=True):
    request: rights.Request
    withdrawn: int  # consents withdrawn by this click
    blocked: tuple[str, ...]


async def delete_my_data(
    subject_id: uuid.UUID, ip: str | None, user_agent: str | None
) -> DeletionFiled:
    """«Удалить мои данные» in one click: every consent in force is withdrawn, processing stops
    (every profile field is blocked at once), and one ``consent_withdrawn`` request for the
    destruction of all the subject's data is filed, due in 30 days (152-FZ Art. 21 p.5). The
    DPO executes it (or refuses it with a reason, if another legal basis applies); otherwise
    the retention job destroys everything on its last day."""
    proof = consent.Proof(channel="portal", control=DELETE_CONTROL, ip=ip, user_agent=user_agent)
    async with database.transaction():
        conn = database.connection()
        await subject.lock(subject_id)
        pending = await conn.fetchval(queries.PENDING_DELETION, subject_id)
        if pending is not None:  # a second click: the first request is already on its way
            already = await rights.get(conn, pending)
            assert already is not None
            return DeletionFiled(already, 0, ())
        live = await conn.fetch(queries.IN_FORCE_WITH_KIND, subject_id)
        events = [await consent.withdraw(conn, subject_id, row["id"], proof) for row in live]
        processing = [row["id"] for row in live if row["kind"] == "processing"]
        request = await rights.create(
            conn,
            subject_id=subject_id,
            kind=RequestKind.CONSENT_WITHDRAWN,
            channel="portal",
            details={"scope": "all", "withdrawal_event": events[0] if events else None},
            consent_id=processing[0] if processing else None,
        )
        blocked = await log_blocking(
            subject_id,
            await conn.fetch(queries.BLOCK_FIELDS, subject_id, "all"),
            basis=WITHDRAWAL_BASIS,
            reason="отзыв согласий: удаление всех данных по просьбе субъекта",
            request_id=request.id,
        )
    return DeletionFiled(request, len(events), blocked)
