"""Destruction of what the portal keeps about a subject: sessions, sign-in codes, exports, and
the letters in the outbox folder (files, overwritten before they are deleted, and their rows)."""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg

from okno.platform.erasure.areas import defer_unlink
from okno.platform.erasure.registry import eraser, not_pd
from okno.platform.mail import outbox_folder


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
