"""What the act certifies happens: after a destruction commits, the tables it touched are
rewritten, so PostgreSQL's own files (heap, TOAST and index files) no longer hold the values;
attachment files are overwritten before they are deleted."""

from __future__ import annotations

import os
from pathlib import Path

import asyncpg
import pytest

from okno.platform import database
from okno.platform.erasure import compaction
from okno.platform.erasure.files import unlink
from okno.platform.staff.roles import Role
from tests.conftest import staff_client
from tests.test_destruction import make_person


@pytest.fixture
async def dpo(base_url, make_staff):
    user = await make_staff(Role.DPO)
    client = await staff_client(base_url, user.login)
    yield client
    await client.aclose()


async def relation_files(tables: list[str]) -> list[Path]:
    """Every file of the tables, their TOAST tables and all their indexes, as PostgreSQL has
    them on disk after a checkpoint. As the suite database's owner, a superuser in the tests:
    CHECKPOINT and data_directory are not the server's role's to use."""
    conn = await asyncpg.connect(os.environ["OKNO_MIGRATION_DATABASE_URL"])
    try:
        await conn.execute("CHECKPOINT")  # dirty pages reach the files the test reads
        root = Path(await conn.fetchval("SELECT current_setting('data_directory')"))
        rows = await conn.fetch(
            "WITH t AS (SELECT c.oid, c.reltoastrelid FROM pg_class c"
            "  WHERE c.relname = ANY($1::text[]) AND c.relnamespace = current_schema()::regnamespace)"
            " SELECT pg_relation_filepath(oid) AS path FROM ("
            "  SELECT oid FROM t UNION SELECT reltoastrelid FROM t WHERE reltoastrelid <> 0"
            "  UNION SELECT i.indexrelid FROM pg_index i"
            "   WHERE i.indrelid IN (SELECT oid FROM t UNION SELECT reltoastrelid FROM t)) r",
            tables,
        )
    finally:
        await conn.close()
    files = []
    for row in rows:
        base = root / row["path"]
        files += [base, *sorted(base.parent.glob(base.name + ".*"))]
    return [path for path in files if path.is_file() and not path.name.endswith(("_fsm", "_vm"))]


def output_of(server) -> Path:
    """The server's output, through its own file descriptor: the same file as ``server.log``,
    readable even if something on the shared machine removed that name."""
    return Path(f"/proc/{server.process.pid}/fd/1")


def holding(files: list[Path], values: dict[str, str]) -> set[str]:
    """The kinds of the values any of the files holds (UTF-8, as PostgreSQL stores text)."""
    found = set()
    for path in files:
        data = path.read_bytes()
        found |= {kind for kind, value in values.items() if value.encode() in data}
    return found


async def test_after_destruction_the_tables_files_hold_none_of_the_values(
    base_url, supervisor, dpo
) -> None:
    victim = await make_person(base_url, supervisor)
    control = await make_person(base_url, supervisor)
    tables = compaction.tables_of_erasers()
    values = {kind: victim.values[kind] for kind in ("name", "phone", "email", "text", "reply")}
    kept = {kind: control.values[kind] for kind in values}
    files = await relation_files(tables)
    assert holding(files, values) == set(values), "the values are on disk before"

    response = await dpo.post(
        f"/admin/dpo/subjects/{victim.subject}/destroy",
        data={"confirm": "yes", "reason": "проверка носителей", "_csrf_token": dpo.csrf},
    )
    assert response.status_code == 303, response.text
    act_id = int(response.headers["location"].rsplit("/", 1)[1])

    async with database.acquire() as conn:
        done = await compaction.status(conn, act_id)
    assert done["done_at"] is not None, done
    assert set(tables) <= set(done["tables"])
    files = await relation_files(tables)
    assert holding(files, values) == set(), "a destroyed value is still in a table's file"
    assert holding(files, kept) == set(kept), "the control subject's values are all there"
    page = (await dpo.get(f"/admin/dpo/acts/{act_id}")).text
    assert "VACUUM (FULL, ANALYZE)" in page
    assert "pg_wal" in page
    assert "Таблицы перестроены" in page
    await victim.client.close()
    await control.client.close()


async def test_a_rewrite_that_cannot_run_now_is_retried_by_the_job(
    base_url, database_url, supervisor, dpo
) -> None:
    person = await make_person(base_url, supervisor)
    # Fault injection: another session holds a lock on the messages table, so the rewrite
    # right after the destruction cannot take its exclusive lock within the timeout.
    blocker = await asyncpg.connect(database_url)
    try:
        transaction = blocker.transaction()
        await transaction.start()
        await blocker.execute("LOCK TABLE message IN ACCESS SHARE MODE")
        response = await dpo.post(
            f"/admin/dpo/subjects/{person.subject}/destroy",
            data={"confirm": "yes", "reason": "проверка повтора", "_csrf_token": dpo.csrf},
            timeout=30,
        )
        assert response.status_code == 303, response.text
        act_id = int(response.headers["location"].rsplit("/", 1)[1])
        async with database.acquire() as conn:
            waiting = await compaction.status(conn, act_id)
        assert waiting["done_at"] is None
        assert waiting["last_error"] == "LockNotAvailableError"
        page = (await dpo.get(f"/admin/dpo/acts/{act_id}")).text
        assert "ещё не перестроены" in page
        await transaction.rollback()
    finally:
        await blocker.close()
    assert await compaction.run_pending() >= 1  # what the background job does every minute
    async with database.acquire() as conn:
        done = await compaction.status(conn, act_id)
    assert done["done_at"] is not None
    await person.client.close()


def test_a_destroyed_file_is_overwritten_before_it_is_deleted(tmp_path) -> None:
    path = tmp_path / "scan.txt"
    path.write_bytes(b"passport 4500 123456" * 1000)
    handle = path.open("rb")  # a reader that still has the file open sees its new content
    unlink([path])
    assert not path.exists()
    assert set(handle.read()) == {0}
    handle.close()
