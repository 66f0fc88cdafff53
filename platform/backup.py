"""``okno backup`` and ``okno restore``: the database and the files at one moment, and a restore
that destroys again what was destroyed after that moment before the server may start.

A backup is a folder: ``database.dump`` (pg_dump's custom format, read from a snapshot this
module exports), ``attachments/`` (the files the snapshot's rows point at, from the storage,
whether a folder or a bucket), ``outbox/`` (the letters the snapshot lists), ``secret_key``,
and ``manifest.json`` (written last: time, versions, migrations, each file's SHA-256).

A restore first writes its marker (beside the destructions' journal, which every host shares),
copies into the journal the acts of the database it is about to replace, empties the schema,
loads the dump, makes the storage hold exactly the backup's attachments, and leaves the
marker for ``okno destruction reapply`` (which it runs next) to remove. ``okno serve`` refuses
to start while the marker is there (``refuse_start``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg

from okno.platform import embedded_db, mail, queries, storage
from okno.platform.erasure import journal
from okno.platform.processing_log import service as processing_log
from okno.platform.settings import get_settings

MANIFEST = "manifest.json"
DUMP = "database.dump"
MARKER = "restore-pending.json"
FORMAT = 1


class BackupError(Exception):
    """A backup that cannot be made or restored; the message says why, in Russian."""


@dataclass
class Restored:
    backup: str
    acts_taken: int  # acts of the replaced database newly written to the journal
    attachments_removed: int  # files the backup does not have (newer uploads)
    attachments_written: int
    anchors_set_aside: int  # heads of the processing log's rows written after the backup


def _owner_url() -> str:
    settings = get_settings()
    url = settings.migration_database_url or settings.database_url
    if not url:
        raise BackupError("не задан DATABASE_URL")
    return url


def tool(name: str, server_version: str) -> str:
    """pg_dump or pg_restore of a version that reads this server: OKNO_PG_BIN's, else the
    PATH's (Debian's client), else the embedded server's own (PostgreSQL 16), whichever first
    is at least the server's major version (an older pg_dump refuses a newer server)."""
    settings = get_settings()
    if settings.pg_bin:
        candidates = [str(Path(settings.pg_bin) / name)]
    else:
        bundled = embedded_db.client_tools()
        candidates = [shutil.which(name) or "", str(bundled / name) if bundled else ""]
    wanted = _major(server_version)
    for found in candidates:
        if found and Path(found).is_file() and _major(_run(found, "--version")) >= wanted:
            return found
    raise BackupError(
        f"не найден {name} версии {wanted} или новее: установите клиент PostgreSQL"
        " или задайте OKNO_PG_BIN"
    )


def _major(version: str) -> int:
    match = re.search(r"(\d+)(?:\.\d+)?", version)
    return int(match.group(1)) if match else 0


def _run(*command: str, database: str | None = None) -> str:
    """Run a PostgreSQL client tool; ``database``'s password goes in its environment, not on a
    command line every local user may read."""
    env = dict(os.environ)
    argv = list(command)
    if database is not None:
        parts = urlsplit(database)
        if parts.password is not None:
            env["PGPASSWORD"] = unquote(parts.password)
            netloc = parts.netloc.rsplit("@", 1)
            user = netloc[0].split(":", 1)[0]
            parts = parts._replace(netloc=f"{user}@{netloc[1]}")
        argv += ["-d", urlunsplit(parts)]
    # The arguments are okno's own and the settings' URL, never a request's input.
    done = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name}: {_without_values(done.stderr)}")
    return done.stdout


def _without_values(stderr: str) -> str:
    """The tool's own lines up to the server's ``ERROR:``: what failed (a connection, a
    version, a table), never the rows' values a COPY error's text and context may quote."""
    said = [
        line.split("ERROR:", 1)[0].strip()
        for line in stderr.splitlines()
        if line.startswith(("pg_dump:", "pg_restore:"))
    ]
    return "; ".join(said)[-2000:] or "ошибка без сообщения"


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


async def backup(into: Path) -> Path:
    """A new backup folder inside ``into``; returns its path."""
    owner = _owner_url()
    conn = await asyncpg.connect(owner)
    try:
        server = await conn.fetchval(queries.SERVER_VERSION)
        pg_dump = await asyncio.to_thread(tool, "pg_dump", server)
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            exported = await conn.fetchrow(queries.EXPORT_SNAPSHOT)
            assert exported is not None  # a SELECT without FROM has its one row
            snapshot, moment = exported
            folder = _new_folder(into, moment)
            keys = [row["path"] for row in await conn.fetch(queries.ATTACHMENT_KEYS)]
            letters = [row["path"] for row in await conn.fetch(queries.OUTBOX_LETTERS)]
            migrations = [list(row) for row in await conn.fetch(queries.APPLIED_MIGRATIONS)]
            # The exporting transaction stays open until pg_dump has read everything.
            await asyncio.to_thread(
                _run, pg_dump, "-Fc", f"--snapshot={snapshot}", "-f", str(folder / DUMP),
                database=owner,
            )  # fmt: skip
    finally:
        await conn.close()
    await asyncio.to_thread(_copy_files, folder, keys, letters)
    manifest = {
        "format": FORMAT,
        "created_at": moment.isoformat(),
        "okno": metadata.version("okno"),
        "postgresql": server,
        "pg_dump": _run(pg_dump, "--version").strip(),
        "migrations": migrations,
        "storage": get_settings().storage,
        "journal_lines": len(journal.entries()),
        "files": {
            str(path.relative_to(folder)): {"sha256": _sha256(path), "size": path.stat().st_size}
            for path in sorted(folder.rglob("*"))
            if path.is_file()
        },
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
    return folder


def _new_folder(into: Path, moment: datetime) -> Path:
    into.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = into / f"okno-{moment.strftime('%Y%m%dT%H%M%S.%fZ')}"
    folder.mkdir(mode=0o700)
    return folder


def _copy_files(folder: Path, keys: list[str], letters: list[str]) -> None:
    """The snapshot's attachments (one missing now was destroyed or deleted since: the dump
    still points at it, and the journal's replay or the row's state takes care of it)."""
    files = storage.files()
    for key in keys:
        data = files.read(key)
        if data is not None:
            _write_private(folder / "attachments" / key, data)
    outbox = mail.outbox_folder().resolve()
    for letter in letters:
        path = Path(letter).resolve()
        if path.parent == outbox and path.is_file():
            _write_private(folder / "outbox" / path.name, path.read_bytes())
    key_file = get_settings().data_path / "secret_key"
    if key_file.is_file():
        _write_private(folder / "secret_key", key_file.read_bytes())


def manifest_of(source: Path) -> dict[str, Any]:
    """The backup's manifest, after checking every file it lists against its SHA-256."""
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError):
        raise BackupError(f"{source}: нет манифеста резервной копии ({MANIFEST})") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{source}: неизвестный формат резервной копии")
    for name, expected in manifest["files"].items():
        path = source / name
        if not path.is_file() or _sha256(path) != expected["sha256"]:
            raise BackupError(f"{source}: файл {name} повреждён или отсутствует")
    return manifest


def marker() -> Path:
    """Beside the journal: every host that shares the journal sees a restore under way."""
    return journal.path().parent / MARKER


def refuse_start() -> None:
    if marker().exists():
        raise BackupError(
            "восстановление из резервной копии не завершено: уничтожения, сделанные после неё,"
            " ещё не применены повторно. Выполните okno destruction reapply"
            f" (отметка {marker()})"
        )


async def restore(source: Path) -> Restored:
    """Everything but the replay (``okno destruction reapply``), which needs the schema
    migrated to this version first."""
    manifest = await asyncio.to_thread(manifest_of, source)
    owner = _owner_url()
    conn = await asyncpg.connect(owner)
    try:
        # pg_restore reads what pg_dump wrote: at least the dumping one's version.
        made_by = max(manifest["pg_dump"], await conn.fetchval(queries.SERVER_VERSION), key=_major)
        pg_restore = await asyncio.to_thread(tool, "pg_restore", made_by)
        place = marker()
        place.parent.mkdir(parents=True, exist_ok=True)
        place.write_text(json.dumps({"backup": source.name, "created_at": manifest["created_at"]}))
        taken = await _take_register(conn)
        await conn.execute(queries.EMPTY_SCHEMA)
    finally:
        await conn.close()
    await asyncio.to_thread(
        _run,
        pg_restore,
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
        str(source / DUMP),
        database=owner,
    )
    conn = await asyncpg.connect(owner)
    try:
        aside = await processing_log.set_aside_anchors_beyond(conn, f"before-{source.name}")
    finally:
        await conn.close()
    removed, written = await asyncio.to_thread(_restore_files, source)
    return Restored(source.name, taken, removed, written, aside)


async def _take_register(conn: asyncpg.Connection) -> int:
    """The newer database's acts into the journal; none when it has no schema yet (a restore
    onto a new server)."""
    if not await conn.fetchval(queries.HAS_DESTRUCTION_ACTS):
        return 0
    return await journal.take_from(conn)


def _restore_files(source: Path) -> tuple[int, int]:
    """The storage holds exactly the backup's attachments afterwards: a newer upload has no
    row in the restored database, and its bytes would stay there unreachable by destruction."""
    files = storage.files()
    saved = source / "attachments"
    wanted = {path.name for path in saved.iterdir()} if saved.is_dir() else set()
    removed = 0
    for key, _ in list(files.sizes()):
        if key not in wanted:
            files.delete(key)
            removed += 1
    present = {key for key, _ in files.sizes()}
    for key in sorted(wanted - present):
        files.write(key, (saved / key).read_bytes())
    outbox = mail.outbox_folder()
    saved_letters = source / "outbox"
    letters = {path.name for path in saved_letters.iterdir()} if saved_letters.is_dir() else set()
    for path in outbox.iterdir() if outbox.is_dir() else ():
        if path.is_file() and path.name not in letters:
            storage.overwrite(path)
            path.unlink()
    for name in letters:
        if not (outbox / name).exists():
            _write_private(outbox / name, (saved_letters / name).read_bytes())
    key_file = get_settings().data_path / "secret_key"
    if (source / "secret_key").is_file() and not key_file.exists():
        _write_private(key_file, (source / "secret_key").read_bytes())
    return removed, len(wanted - present)


def finish() -> None:
    """The replay is done: the server may start."""
    marker().unlink(missing_ok=True)
