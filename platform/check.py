"""``okno check``: whether a configuration can start, found before the start.

Each check gives one finding: fine, a warning (okno starts, but look), or a problem (it would
not start or not work); the command exits 1 when there is a problem. Nothing is changed: the
migrations are counted, not applied, and the mail server is greeted, not written to.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from typing import Literal
from urllib.parse import urlsplit

import asyncpg
import msgspec

from okno.platform import health, mail
from okno.platform.migrate import guarding_problem
from okno.platform.settings import Settings

Verdict = Literal["ok", "warning", "problem"]


class Finding(msgspec.Struct, frozen=True):
    verdict: Verdict
    what: str
    detail: str


def data_folder(settings: Settings) -> Finding:
    folder = settings.data_path
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".okno-check-"):
            pass
    except OSError as error:
        return Finding("problem", "папка данных", f"{folder}: нет записи ({error.strerror})")
    return Finding("ok", "папка данных", f"{folder}: запись возможна")


def secret(settings: Settings) -> Finding:
    if settings.secret_key:
        return Finding("ok", "секретный ключ", "задан в OKNO_SECRET_KEY")
    path = settings.data_path / "secret_key"
    if path.exists():
        if not os.access(path, os.R_OK):
            return Finding("problem", "секретный ключ", f"{path}: нет доступа на чтение")
        return Finding("ok", "секретный ключ", f"хранится в {path}")
    return Finding(
        "warning",
        "секретный ключ",
        f"не задан: будет создан в {path} при первом запуске; на нескольких серверах"
        " задайте один OKNO_SECRET_KEY для всех",
    )


def public_url(settings: Settings) -> Finding:
    if not settings.public_url:
        return Finding(
            "warning",
            "публичный адрес",
            "OKNO_PUBLIC_URL не задан: ссылки в письмах ведут на OKNO_HOST:OKNO_PORT",
        )
    parts = urlsplit(settings.public_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        return Finding(
            "problem",
            "публичный адрес",
            "OKNO_PUBLIC_URL: нужен адрес вида https://chat.example.ru, без пути",
        )
    if parts.scheme != "https":
        return Finding("warning", "публичный адрес", f"{settings.public_url}: не HTTPS")
    return Finding("ok", "публичный адрес", settings.public_url)


async def database(settings: Settings) -> list[Finding]:
    """The server's role connects and is not the schema's owner; the migrations' state."""
    url = settings.database_url or ""
    try:
        conn = await asyncpg.connect(url, timeout=10)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as error:
        return [Finding("problem", "база данных", f"недоступна ({type(error).__name__})")]
    try:
        found = [Finding("ok", "база данных", "подключение есть")]
        pending = await health.pending_migrations(conn)
        with contextlib.suppress(asyncpg.UndefinedTableError):  # an empty database
            if problem := await guarding_problem(conn):
                found.append(Finding("warning", "роль сервера", problem))
    finally:
        await conn.close()
    if settings.migration_database_url and settings.migration_database_url != url:
        try:
            owner = await asyncpg.connect(settings.migration_database_url, timeout=10)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as error:
            found.append(
                Finding(
                    "problem",
                    "владелец схемы",
                    f"OKNO_MIGRATION_DATABASE_URL недоступен ({type(error).__name__})",
                )
            )
        else:
            await owner.close()
            found.append(Finding("ok", "владелец схемы", "подключение есть"))
    if pending:
        found.append(
            Finding(
                "warning",
                "миграции",
                f"не применено: {len(pending)} (применит okno migrate или okno serve)",
            )
        )
    else:
        found.append(Finding("ok", "миграции", "все применены"))
    return found


async def mail_server(settings: Settings) -> Finding:
    if not settings.smtp_host:
        return Finding("ok", "почта", "OKNO_SMTP_HOST не задан: письма пишутся в папку outbox")
    problem = await asyncio.to_thread(mail.connection_problem, settings)
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    if problem:
        return Finding("problem", "почта", f"{where}: {problem}")
    return Finding("ok", "почта", f"{where}: соединение и вход успешны")


async def run(settings: Settings) -> list[Finding]:
    return [
        data_folder(settings),
        secret(settings),
        public_url(settings),
        *await database(settings),
        await mail_server(settings),
    ]
