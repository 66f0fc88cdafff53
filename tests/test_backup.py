"""`okno backup` and `okno restore`: a restore destroys again what was destroyed after the
backup, and the server does not start before it has (docs/deploy.md, «Backups»). The
attachments are in an S3 bucket (moto): the backup reads them from it, the restore puts back
exactly the backup's."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from tests.admin_support import Console
from tests.chat_support import Client, Staff
from tests.conftest import (
    ADMIN_PASSWORD,
    DATA_DIR,
    ROOT,
    STAFF_PASSWORD,
    free_port,
    staff_client,
)
from tests.fresh_okno import fresh_okno
from tests.s3_server import s3_server
from tests.test_consent import offer_and_accept
from tests.test_destruction import dump, fill, names, upload

# Servers started and the `okno` command run as processes: slow on a busy machine.
pytestmark = pytest.mark.timeout(300)


def okno(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The ``okno`` command as the administrator runs it on the server."""
    return subprocess.run(
        [sys.executable, "-m", "okno.platform.cli", *args],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


async def test_a_restored_backup_keeps_nothing_of_a_subject_destroyed_after_it(
    database_url: str,
) -> None:
    root = DATA_DIR / f"backup-{secrets.token_hex(3)}"
    backups = root / "backups"
    env = {
        "OKNO_DATA_DIR": str(root / "data"),
        # The journal beside the backups, outside what a restore replaces.
        "OKNO_DESTRUCTION_JOURNAL": str(backups / "destructions.jsonl"),
    }
    with s3_server(DATA_DIR) as s3, fresh_okno(database_url, **env, **s3.env()) as server:
        env |= s3.env()
        env |= {
            "DATABASE_URL": server.database_url,  # type: ignore[attr-defined]
            "OKNO_MIGRATION_DATABASE_URL": server.owner_url,  # type: ignore[attr-defined]
        }
        console = await Console.sign_in(server.url, "admin", ADMIN_PASSWORD)
        supervisor_login, dpo_login = (f"{r}-{secrets.token_hex(3)}" for r in ("sv", "dpo"))
        await console.create_account(supervisor_login, "supervisor", STAFF_PASSWORD)
        await console.create_account(dpo_login, "dpo", STAFF_PASSWORD)
        await console.close()

        # A client who wrote, consented, gave name, phone and e-mail, and sent a file.
        supervisor = await Staff.open(server.url, supervisor_login)
        values = names()
        client = await Client.open(server.url)
        conversation = (await client.say(values["text"]))["conversation"]
        await supervisor.open_conversation(conversation)
        await offer_and_accept(client, supervisor, conversation)
        for field in ("name", "phone", "email"):
            await fill(client, supervisor, conversation, field, values[field])
        attachment = await upload(client, values["file_name"], values["file"])
        await client.say("Вот скан", attachment=attachment)
        await supervisor.say(conversation, values["reply"])
        await client.close()
        await supervisor.close()
        owner = env["OKNO_MIGRATION_DATABASE_URL"]
        conn = await asyncpg.connect(owner)
        subject = await conn.fetchval(
            "SELECT subject_id FROM conversation WHERE id = $1", conversation
        )
        await conn.close()

        made = okno(env, "backup", str(backups))
        assert made.returncode == 0, made.stderr
        folder = Path(made.stdout.strip().rsplit(" ", 1)[1])
        manifest = json.loads((folder / "manifest.json").read_text())
        assert {"database.dump", f"attachments/{attachment}"} <= set(manifest["files"])
        assert (folder / "attachments" / attachment).read_bytes() == values["file"]
        assert all(manifest[key] for key in ("migrations", "postgresql", "okno", "created_at"))

        dpo = await staff_client(server.url, dpo_login)
        destroyed = await dpo.post(
            f"/admin/dpo/subjects/{subject}/destroy",
            data={"confirm": "yes", "reason": "по требованию", "_csrf_token": dpo.csrf},
            timeout=60,  # a destruction searches and rewrites tables: seconds on a busy machine
        )
        await dpo.aclose()
        assert destroyed.status_code == 303, destroyed.text
        server.stop()  # a restore is made with every host stopped

        # A damaged backup is refused before anything changes.
        damaged = root / "damaged"
        shutil.copytree(folder, damaged)
        with (damaged / "database.dump").open("r+b") as file:
            file.seek(100)
            byte = file.read(1)
            file.seek(100)
            file.write(bytes([byte[0] ^ 0xFF]))
        refused = okno(env, "restore", str(damaged))
        assert refused.returncode == 1
        assert "database.dump повреждён" in refused.stderr, refused.stderr
        assert values["name"] not in dump(owner)

        # Fault injection: a restore stopped after loading the dump, before its replay.
        marker = backups / "restore-pending.json"
        marker.write_text(json.dumps({"backup": folder.name}))
        held = okno(env, "serve", "--port", str(free_port()))
        assert held.returncode == 1
        assert "okno destruction reapply" in held.stderr, held.stderr
        marker.unlink()

        restored = okno(env, "restore", str(folder))
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert "уничтожено повторно: 1" in restored.stdout, restored.stdout
        after = dump(owner)
        for kind in ("name", "phone", "email", "text", "reply", "file_name"):
            assert values[kind] not in after, kind
        assert values["file"] not in s3.objects().values()
        assert not (backups / "restore-pending.json").exists()
        # The processing log is back at the backup's moment, plus the replay's rows: it holds.
        verified = okno(env, "log", "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
