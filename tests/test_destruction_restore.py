"""A restore from a backup brings destroyed data back; the journal of destructions kept outside
the database lets `okno destruction reapply` destroy them again."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys

import asyncpg

from okno.platform.erasure import journal
from okno.platform.staff.roles import Role
from tests.conftest import ROOT, new_database, staff_client
from tests.test_destruction import dump, make_person

# pgserver's client tools (PostgreSQL 16) read both the embedded server and a 15 one.
BIN = ROOT / ".venv/lib/python3.11/site-packages/pgserver/pginstall/bin"


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        list(args),
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def reapply(env: dict[str, str]) -> subprocess.CompletedProcess:
    return run(sys.executable, "-m", "okno.platform.cli", "destruction", "reapply", **env)


async def test_a_restore_is_followed_by_the_destructions_made_after_the_backup(
    base_url, database_url, supervisor, make_staff
) -> None:
    person = await make_person(base_url, supervisor)
    backup = ROOT / f".restore-{secrets.token_hex(3)}.dump"
    made = await asyncio.to_thread(
        run,
        f"{BIN}/pg_dump",
        "-Fc",
        "-f",
        str(backup),
        "-d",
        os.environ["OKNO_MIGRATION_DATABASE_URL"],
    )
    assert made.returncode == 0, made.stderr
    user = await make_staff(Role.DPO)
    dpo = await staff_client(base_url, user.login)
    response = await dpo.post(
        f"/admin/dpo/subjects/{person.subject}/destroy",
        data={"confirm": "yes", "reason": "по требованию", "_csrf_token": dpo.csrf},
    )
    await dpo.aclose()
    assert response.status_code == 303, response.text
    act_id = int(response.headers["location"].rsplit("/", 1)[1])
    line = [entry for entry in journal.entries() if entry["act"] == act_id]
    assert [(entry["subject"], entry["scope"]) for entry in line] == [
        (str(person.subject), "subject")
    ]
    assert person.values["name"] not in json.dumps(journal.entries(), ensure_ascii=False)

    # The operator restores the backup into a fresh database, as its owner.
    with new_database(migrate=False) as fresh:
        try:
            loaded = await asyncio.to_thread(
                run, f"{BIN}/pg_restore", "--no-owner", "-d", fresh.owner_url, str(backup)
            )
            assert loaded.returncode == 0, loaded.stderr
            await asyncio.to_thread(
                run, sys.executable, "-m", "okno.platform.cli", "migrate", **fresh.env()
            )  # the server's role gets its grants again
            assert person.values["name"] in dump(fresh.owner_url), (
                "the backup brought the data back"
            )
            result = await asyncio.to_thread(reapply, fresh.env())
            assert result.returncode == 0, result.stderr
            assert "уничтожено повторно: 1" in result.stdout, result.stdout
            again = dump(fresh.owner_url)
            for kind in ("name", "phone", "email", "text", "reply"):
                assert person.values[kind] not in again, kind
            conn = await asyncpg.connect(fresh.owner_url)
            try:
                reason = await conn.fetchval(
                    "SELECT act->>'reason' FROM destruction_act WHERE subject_id = $1",
                    person.subject,
                )
            finally:
                await conn.close()
            assert (
                reason
                == f"повторное уничтожение после восстановления из резервной копии (акт № {act_id})"
            )
            # Run twice, nothing more happens.
            twice = await asyncio.to_thread(reapply, fresh.env())
            assert "уничтожено повторно: 0" in twice.stdout, twice.stdout
        finally:
            backup.unlink(missing_ok=True)
    await person.client.close()
