"""The processing log: append-only in the database, hash-chained, never holding a PD value."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid

import asyncpg
import msgspec
import pytest

from okno.platform import database
from okno.platform.processing_log import service as log
from okno.platform.processing_log.actions import Action, ActorKind
from okno.platform.processing_log.schemas import LogEntry

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
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute(statement, row_id)


async def test_the_database_refuses_truncate() -> None:
    await write(entry())
    async with database.acquire() as conn:
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
    assert len(rows) == 100
    assert result.ok, result


async def test_a_row_altered_behind_the_triggers_back_is_caught() -> None:
    [first, second] = await write(entry(), entry())
    cli_before = run_cli("log", "verify")
    assert cli_before.returncode == 0, cli_before.stderr
    assert "журнал обработки цел" in cli_before.stdout
    async with database.acquire() as conn:
        # A superuser can bypass triggers; the chain is what catches it.
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            await conn.execute("UPDATE processing_log SET action = 'use' WHERE id = $1", second)
        result = await log.verify(conn)
    assert not result.ok
    assert result.first_bad_id == second
    cli = run_cli("log", "verify")
    assert cli.returncode != 0
    assert f"на записи {second}" in cli.stderr
    # Leave a sound chain for the rest of the suite: put the row back as it was.
    async with database.acquire() as conn:
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            await conn.execute("UPDATE processing_log SET action = 'storage' WHERE id = $1", second)
        assert (await log.verify(conn)).ok
    assert first + 1 == second


async def test_a_deleted_row_is_caught() -> None:
    ids = await write(entry(), entry(), entry())
    async with database.acquire() as conn:
        saved = await conn.fetchrow("SELECT * FROM processing_log WHERE id = $1", ids[1])
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            await conn.execute("DELETE FROM processing_log WHERE id = $1", ids[1])
        result = await log.verify(conn)
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            columns = ", ".join(saved.keys())
            placeholders = ", ".join(f"${n}" for n in range(1, len(saved) + 1))
            await conn.execute(
                f"INSERT INTO processing_log ({columns}) VALUES ({placeholders})", *saved.values()
            )
    assert not result.ok
    assert result.first_bad_id == ids[1]
    assert "missing" in (result.problem or "")
