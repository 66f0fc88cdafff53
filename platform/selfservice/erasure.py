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
from okno.platform.erasure.areas import defer_unlink
from okno.platform.erasure.registry import eraser, not_pd
from okno.platform.mail import outbox_folder
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action, ActorKind
from okno.platform.rights import requests as rights
from okno.platform.rights.deadlines import RequestKind
from okno.platform.selfservice.compliance import WITHDRAWAL_BASIS, entry
from okno.platform.subjects.fields import FIELDS

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
    letters = await conn.fetch(
        "DELETE FROM mail_outbox WHERE subject_id = $1 RETURNING path", subject_id
    )
    defer_unlink(_letters([row["path"] for row in letters]))
    exports = await conn.fetchval(
        "WITH d AS (DELETE FROM portal_export WHERE subject_id = $1 RETURNING 1)"
        " SELECT count(*) FROM d",
        subject_id,
    )
    sessions = await conn.fetchval(
        "WITH d AS (DELETE FROM portal_session WHERE subject_id = $1 RETURNING 1)"
        " SELECT count(*) FROM d",
        subject_id,
    )
    codes = await conn.fetchval(
        "WITH d AS (DELETE FROM portal_code WHERE subject_id = $1 RETURNING 1)"
        " SELECT count(*) FROM d",
        subject_id,
    )
    return {
        "письма в папке исходящих": len(letters),
        "выгрузки данных": exports,
        "сеансы «Моих данных»": sessions,
        "коды входа": codes,
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
        await conn.execute("SELECT id FROM subject WHERE id = $1 FOR UPDATE", subject_id)
        pending = await conn.fetchval(
            "SELECT id FROM rights_request WHERE subject_id = $1 AND kind = 'consent_withdrawn'"
            " AND details->>'scope' = 'all' AND status NOT IN ('refused', 'done')",
            subject_id,
        )
        if pending is not None:  # a second click: the first request is already on its way
            already = await rights.get(conn, pending)
            assert already is not None
            return DeletionFiled(already, 0, ())
        live = await conn.fetch(
            "SELECT g.id, p.kind FROM consent_event g JOIN purpose p ON p.code = g.purpose_code"
            " WHERE g.subject_id = $1 AND g.kind = 'given'"
            " AND NOT EXISTS (SELECT 1 FROM consent_event w WHERE w.given_id = g.id)"
            " ORDER BY g.id",
            subject_id,
        )
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
        rows = await conn.fetch(
            "UPDATE subject_field SET blocked_at = now() WHERE subject_id = $1"
            " AND blocked_at IS NULL RETURNING field",
            subject_id,
        )
        blocked = tuple(sorted(r["field"] for r in rows if r["field"] in FIELDS))
        if blocked:
            await processing_log.record(
                entry(
                    Action.BLOCKING,
                    ActorKind.SYSTEM,
                    subject_id,
                    blocked,
                    basis=WITHDRAWAL_BASIS,
                    reason="отзыв согласий: удаление всех данных по просьбе субъекта",
                    request_id=request.id,
                )
            )
    return DeletionFiled(request, len(events), blocked)
