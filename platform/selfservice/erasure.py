"""Destruction of what the portal keeps about a subject: sessions, sign-in codes, exports, and
the letters in the outbox folder (files and their rows)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from pathlib import Path

import asyncpg

from okno.platform.erasure.registry import eraser
from okno.platform.mail import outbox_folder


def _unlink(paths: list[str]) -> None:
    folder = outbox_folder().resolve()
    for name in paths:
        path = Path(name).resolve()
        if path.parent == folder:  # never outside the outbox, whatever the row says
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


@eraser("portal")
async def erase_portal(conn: asyncpg.Connection, subject_id: uuid.UUID) -> dict[str, int]:
    letters = await conn.fetch(
        "DELETE FROM mail_outbox WHERE subject_id = $1 RETURNING path", subject_id
    )
    await asyncio.to_thread(_unlink, [row["path"] for row in letters])
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
