"""The processing log: append-only in the database, hash-chained, never holding a PD value."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid

import asyncpg
import msgspec
import pytest

from okno.platform import database
from okno.platform.migrate import guarding_problem
from okno.platform.processing_log import service as log
from okno.platform.processing_log.actions import Action, ActorKind
from okno.platform.processing_log.schemas import LogEntry
from tests.conftest import owner_connection

pytestmark = pytest.mark.usefixtures("db")


def entry(**overrides: object) -> LogEntry:
    values: dict[str, object] = {
        "action": Action.STORAGE,
        "actor_kind": ActorKind.SYSTEM,
        "subject_id": uuid.uuid4(),
        "fields": ("phone",),
        "purpose": "support",
        "legal_basis": "consent:1",
    }
    return LogEntry(**{**values, **overrides})


async def write(*entries: LogEntry) -> list[int]:
    async with database.transaction():
        return await log.record(*entries)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "okno.platform.cli", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=60,
    )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE processing_log SET reason = 'edited' WHERE id = $1",
        "DELETE FROM processing_log WHERE id = $1",
    ],
)
async def test_the_database_refuses_to_change_or_remove_a_row(statement: str) -> None:
    [row_id] = await write(entry())
    async with database.acquire() as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await conn.execute(statement, row_id)
    # The schema's owner is refused too: by the trigger.
    async with owner_connection() as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute(statement, row_id)


async def test_the_database_refuses_truncate() -> None:
    await write(entry())
    async with database.acquire() as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await conn.execute("TRUNCATE processing_log")
    async with owner_connection() as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute("TRUNCATE processing_log")


async def test_rows_carry_the_categories_of_their_fields_and_no_values() -> None:
    subject = uuid.uuid4()
    await write(entry(subject_id=subject, fields=("phone", "health")))
    async with database.acquire() as conn:
        [row] = await log.subject_history(conn, subject)
    assert row["fields"] == ["phone", "health"]
    assert row["categories"] == ["general", "special"]


async def test_an_act_and_its_rows_commit_together_or_not_at_all() -> None:
    subject = uuid.uuid4()

    async def act_that_fails() -> None:
        async with database.transaction():
            await log.record(entry(subject_id=subject))
            raise RuntimeError("act failed")

    with pytest.raises(RuntimeError, match="act failed"):
        await act_that_fails()
    async with database.acquire() as conn:
        assert await log.subject_history(conn, subject) == []


async def test_writing_outside_a_transaction_is_refused() -> None:
    with pytest.raises(database.NoTransactionError):
        await log.record(entry())


@pytest.mark.parametrize(
    "overrides",
    [
        {"reason": "клиент +7 912 345-67-89 попросил"},
        {"reason": "письмо от ivan.petrov@example.ru"},
        {"reason": "паспорт 4510 123456"},
        {"fields": ("phone_number_value",)},
        {"purpose": "Иван Петров"},
        {"legal_basis": "ivan@example.ru"},
        {"actor_id": "+79123456789 x"},
    ],
)
async def test_no_pd_value_can_be_written_through_the_service(overrides: dict[str, object]) -> None:
    subject = uuid.uuid4()
    with pytest.raises((ValueError, msgspec.ValidationError)):
        await write(entry(subject_id=subject, **overrides))
    async with database.acquire() as conn:
        assert await log.subject_history(conn, subject) == []


async def test_fifty_concurrent_writers_leave_one_intact_chain() -> None:
    subject = uuid.uuid4()
    await asyncio.gather(
        *(write(entry(subject_id=subject), entry(subject_id=subject)) for _ in range(50))
    )
    async with database.acquire() as conn:
        rows = await log.subject_history(conn, subject)
        result = await log.verify(conn)
        linked = await conn.fetchval(
            "SELECT count(*) FROM processing_log_chain WHERE log_id = ANY($1::bigint[])",
            [row["id"] for row in rows],
        )
    assert len(rows) == 100
    assert linked == 100
    assert result.ok, result


async def test_concurrent_sealers_extend_one_chain_without_gaps_or_doubles() -> None:
    ids = [
        row_id
        for batch in await asyncio.gather(*(write(entry()) for _ in range(30)))
        for row_id in batch
    ]

    async def sealer() -> int:
        async with database.acquire() as conn:
            return await log.seal_all(conn)

    await asyncio.gather(sealer(), sealer(), sealer())
    async with database.acquire() as conn:
        positions = await conn.fetch(
            "SELECT position FROM processing_log_chain WHERE log_id = ANY($1::bigint[])", ids
        )
        assert len(positions) == len(ids)
        assert await conn.fetchval("SELECT count(*) FROM processing_log_unsealed") == 0
        assert (await log.verify(conn)).ok


async def test_the_database_refuses_to_change_or_remove_a_link_of_the_chain() -> None:
    [row_id] = await write(entry())
    async with database.acquire() as conn:
        await log.seal_all(conn)
    async with owner_connection() as conn:
        for statement in (
            "UPDATE processing_log_chain SET hash = prev_hash WHERE log_id = $1",
            "DELETE FROM processing_log_chain WHERE log_id = $1",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute(statement, row_id)
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute("TRUNCATE processing_log_chain")


@pytest.mark.parametrize(
    "statement",
    [
        "SET session_replication_role = replica",
        "ALTER TABLE processing_log DISABLE TRIGGER ALL",
        "ALTER TABLE processing_log_chain DISABLE TRIGGER ALL",
        "UPDATE processing_log SET reason = 'edited'",
        "DELETE FROM processing_log",
        "UPDATE processing_log_chain SET hash = prev_hash",
        "DELETE FROM processing_log_chain",
        "TRUNCATE processing_log_unsealed",
        "DROP TABLE processing_log CASCADE",
    ],
)
async def test_the_servers_role_cannot_get_behind_the_triggers(statement: str) -> None:
    """The server signs in as a role that owns nothing: the log's guards do not rest on it."""
    await sealed(entry())
    async with database.acquire() as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(statement)


async def test_the_server_would_warn_if_its_role_could_get_behind_the_triggers() -> None:
    async with database.acquire() as conn:
        assert await guarding_problem(conn) is None
    async with owner_connection() as conn:
        assert await guarding_problem(conn) in (
            "сервер подключён к базе как суперпользователь",
            "сервер подключён к базе как владелец таблиц",
        )


async def test_maintenance_runs_as_the_owner_the_server_role_cannot_vacuum() -> None:
    async with database.acquire() as conn:
        app_role = await conn.fetchval("SELECT current_user")
    async with database.owner_connection() as conn:
        assert await conn.fetchval("SELECT current_user") != app_role
        assert await guarding_problem(conn) is not None
        await conn.execute("VACUUM processing_log_unsealed")


async def sealed(*entries: LogEntry) -> list[int]:
    ids = await write(*entries)
    async with database.acquire() as conn:
        await log.seal_all(conn)
    return ids


async def behind_the_triggers(conn: asyncpg.Connection, statement: str, *args: object) -> None:
    """What the owner or a superuser can do (``conn`` is theirs): triggers off. The chain is
    what catches it."""
    async with conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        await conn.execute(statement, *args)


async def test_a_row_altered_behind_the_triggers_back_is_caught() -> None:
    [_, second] = await sealed(entry(), entry())
    cli_before = run_cli("log", "verify")
    assert cli_before.returncode == 0, cli_before.stderr
    assert "журнал обработки цел" in cli_before.stdout
    async with owner_connection() as conn:
        await behind_the_triggers(
            conn, "UPDATE processing_log SET action = 'use' WHERE id = $1", second
        )
        result = await log.verify(conn)
    assert not result.ok
    assert result.first_bad_id == second
    cli = run_cli("log", "verify")
    assert cli.returncode != 0
    assert f"на записи {second}" in cli.stderr
    # Leave a sound chain for the rest of the suite: put the row back as it was.
    async with owner_connection() as conn:
        await behind_the_triggers(
            conn, "UPDATE processing_log SET action = 'storage' WHERE id = $1", second
        )
        assert (await log.verify(conn)).ok


async def test_a_deleted_row_is_caught() -> None:
    ids = await sealed(entry(), entry(), entry())
    async with owner_connection() as conn:
        saved = await conn.fetchrow("SELECT * FROM processing_log WHERE id = $1", ids[1])
        await behind_the_triggers(conn, "DELETE FROM processing_log WHERE id = $1", ids[1])
        result = await log.verify(conn)
        columns = ", ".join(saved.keys())
        placeholders = ", ".join(f"${n}" for n in range(1, len(saved) + 1))
        await behind_the_triggers(
            conn, f"INSERT INTO processing_log ({columns}) VALUES ({placeholders})", *saved.values()
        )
        assert (await log.verify(conn)).ok
    assert not result.ok
    assert result.first_bad_id == ids[1]
    assert "missing" in (result.problem or "")


async def test_a_removed_link_is_caught() -> None:
    ids = await sealed(entry(), entry(), entry())
    async with owner_connection() as conn:
        saved = await conn.fetchrow("SELECT * FROM processing_log_chain WHERE log_id = $1", ids[1])
        await behind_the_triggers(
            conn, "DELETE FROM processing_log_chain WHERE log_id = $1", ids[1]
        )
        result = await log.verify(conn)
        await behind_the_triggers(
            conn,
            "INSERT INTO processing_log_chain (position, log_id, prev_hash, hash)"
            " VALUES ($1, $2, $3, $4)",
            *saved.values(),
        )
        assert (await log.verify(conn)).ok
    assert not result.ok
    assert result.first_bad_id == ids[2]
    assert "missing" in (result.problem or "")


async def test_a_row_slipped_in_beside_the_chain_is_caught() -> None:
    async with database.acquire() as conn:
        forged = await conn.fetchval(
            "INSERT INTO processing_log (at, actor_kind, action, categories, fields)"
            " VALUES (now(), 'system', 'use', '{}', '{}') RETURNING id"
        )
        result = await log.verify(conn)
        # Put the forged row where an honest writer would have: in the sealing queue.
        await conn.execute("INSERT INTO processing_log_unsealed (log_id) VALUES ($1)", forged)
        assert (await log.verify(conn)).ok
    assert not result.ok
    assert result.first_bad_id == forged
    assert "not in the chain" in (result.problem or "")


async def test_removing_the_newest_rows_with_their_links_is_caught_by_the_anchor() -> None:
    ids = await sealed(entry(), entry())
    anchored = run_cli("log", "verify")
    assert anchored.returncode == 0, anchored.stderr
    head = re.search(r"голова цепочки: звено (\d+), SHA-256 ([0-9a-f]{64})", anchored.stdout)
    assert head, anchored.stdout
    async with owner_connection() as conn:
        link = await conn.fetchrow("SELECT * FROM processing_log_chain WHERE log_id = $1", ids[-1])
        assert (link["position"], bytes(link["hash"]).hex()) == (int(head[1]), head[2])
        row = await conn.fetchrow("SELECT * FROM processing_log WHERE id = $1", ids[-1])
        # The owner removes the newest row and its link: the rest of the chain is intact.
        await behind_the_triggers(
            conn, "DELETE FROM processing_log_chain WHERE log_id = $1", ids[-1]
        )
        await behind_the_triggers(conn, "DELETE FROM processing_log WHERE id = $1", ids[-1])
        assert (await log.verify(conn)).ok, "the chain alone cannot see it"
        caught = run_cli("log", "verify")
        for table, saved in (("processing_log", row), ("processing_log_chain", link)):
            columns = ", ".join(saved.keys())
            placeholders = ", ".join(f"${n}" for n in range(1, len(saved) + 1))
            await behind_the_triggers(
                conn, f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", *saved.values()
            )
    assert caught.returncode == 3
    assert f"на записи {ids[-1]}" in caught.stderr
    assert "the newest rows were removed" in caught.stderr
    assert run_cli("log", "verify").returncode == 0


async def test_an_anchor_taken_by_an_act_is_checked_by_the_next_verify() -> None:
    [row_id] = await sealed(entry())
    async with database.acquire() as conn:
        anchored = await log.anchor(conn, "act:test")
        assert anchored is not None
        assert anchored.log_id == row_id
        assert log.anchors()[-1] == anchored
        assert (await log.verify_and_anchor(conn, "test")).ok
    async with owner_connection() as conn:
        link = await conn.fetchrow("SELECT * FROM processing_log_chain WHERE log_id = $1", row_id)
        # A forged head: the row's link rewritten with another hash.
        await behind_the_triggers(
            conn, "UPDATE processing_log_chain SET hash = prev_hash WHERE log_id = $1", row_id
        )
        result = await log.verify(conn, log.anchors())
        await behind_the_triggers(
            conn,
            "UPDATE processing_log_chain SET hash = $2 WHERE log_id = $1",
            row_id,
            link["hash"],
        )
    assert not result.ok
    assert result.first_bad_id == row_id


async def test_the_server_seals_what_was_written_without_being_asked() -> None:
    [row_id] = await write(entry())
    stop = asyncio.Event()
    task = asyncio.create_task(log.sealer(stop))
    try:
        async with database.acquire() as conn:
            for _ in range(100):
                if await conn.fetchval(
                    "SELECT 1 FROM processing_log_chain WHERE log_id = $1", row_id
                ):
                    break
                await asyncio.sleep(0.05)
            else:
                pytest.fail("the sealer did not seal a committed row within 5 s")
    finally:
        stop.set()
        await task
