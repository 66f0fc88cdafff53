"""Two okno hosts on one database, each with its own data folder, attachments in an
S3-compatible bucket (moto in server mode): chat, presence, uploads, destruction and the
background jobs work across them (docs/deploy.md, «Several hosts»)."""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import asyncpg
import pytest

from tests.admin_support import Console
from tests.chat_support import Client, Staff
from tests.conftest import (
    ADMIN_PASSWORD,
    DATA_DIR,
    ROOT,
    STAFF_PASSWORD,
    ServerProcess,
    new_database,
    staff_client,
)
from tests.s3_server import S3Server, s3_server
from tests.test_consent import offer_and_accept
from tests.test_destruction import upload
from tests.test_mailings import compose

# Servers started and the `okno` command run as processes: slow on a busy machine.
pytestmark = pytest.mark.timeout(300)


class Hosts(NamedTuple):
    one: ServerProcess
    two: ServerProcess
    s3: S3Server
    database_url: str
    env: dict[str, str]  # what both were started with, for the `okno` command
    folders: tuple[Path, Path]


@pytest.fixture(scope="module")
def hosts(database_url: str) -> Iterator[Hosts]:
    root = DATA_DIR / f"hosts-{secrets.token_hex(3)}"
    folders = (root / "one", root / "two")
    with s3_server(DATA_DIR) as s3, new_database() as fresh:
        # What every host shares: the database, the bucket and the secret key.
        env = {
            **fresh.env(),
            **s3.env(),
            "OKNO_SECRET_KEY": secrets.token_urlsafe(48),
        }
        one = ServerProcess(fresh.url, **env, OKNO_DATA_DIR=str(folders[0]))
        try:
            two = ServerProcess(fresh.url, **env, OKNO_DATA_DIR=str(folders[1]))
            try:
                yield Hosts(one, two, s3, fresh.owner_url, env, folders)
            finally:
                two.stop()
        finally:
            one.stop()


@pytest.fixture(scope="module")
async def accounts(hosts: Hosts) -> dict[str, str]:
    """An operator of the default team, a supervisor and a DPO, added on host one's page."""
    console = await Console.sign_in(hosts.one.url, "admin", ADMIN_PASSWORD)
    logins = {role: f"{role}-{secrets.token_hex(3)}" for role in ("operator", "supervisor", "dpo")}
    try:
        for role, login in logins.items():
            await console.create_account(
                login, role, STAFF_PASSWORD, name=login, team_id=1 if role == "operator" else None
            )
    finally:
        await console.close()
    return logins


async def fetch(url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


def attachments_in(folder: Path) -> list[Path]:
    uploads = folder / "attachments"
    return [path for path in uploads.iterdir()] if uploads.is_dir() else []


async def test_a_client_on_one_host_and_an_operator_on_the_other_chat_and_share_files(
    hosts: Hosts, accounts: dict[str, str]
) -> None:
    operator = await Staff.open(hosts.two.url, accounts["operator"])
    await operator.send(type="presence", status="online")
    await operator.send(type="ping")
    await operator.until("pong")

    client = await Client.open(hosts.one.url)
    # Presence written on host two: host one tells its client an operator is online.
    async with client.http() as http:
        page = await http.get("/chat")
    assert page.status_code == 200
    await client.send(type="resume", after=0)
    state = await client.until("state")
    assert state["availability"]["operators_online"] is True, state

    data = b"%PDF-1.4 " + secrets.token_bytes(2048)
    attachment = await upload(client, "dogovor.pdf", data)
    ack = await client.say("Здравствуйте, договор во вложении", attachment=attachment)
    conversation = ack["conversation"]

    # Uploaded on host one, in the bucket, in neither data folder.
    assert list(hosts.s3.objects().values()).count(data) == 1
    assert attachments_in(hosts.folders[0]) == attachments_in(hosts.folders[1]) == []

    await operator.until("conversation", wait=10)
    await operator.send(type="take", conversation=conversation)
    messages = await operator.open_conversation(conversation)
    sent = next(m for m in messages if m.get("attachment"))
    file = await operator.http_client.get(sent["attachment"]["url"])
    assert file.status_code == 200, file.text
    assert file.content == data
    assert "dogovor.pdf" in file.headers["content-disposition"]

    taken = await client.until("state", wait=10, status="open")
    while not taken.get("operator"):
        taken = await client.until("state", wait=10)
    assert taken["operator"]["presence"] == "online"
    await operator.say(conversation, "Получили, смотрим")
    reply = await client.message(text="Получили, смотрим", wait=10)
    assert reply["author"]["kind"] == "staff"

    await operator.send(type="presence", status="away")
    away = await client.until("state", wait=10)
    while away["operator"]["presence"] != "away":
        away = await client.until("state", wait=10)

    # Destroyed through host two's DPO console: the object leaves the bucket.
    dpo = await staff_client(hosts.two.url, accounts["dpo"])
    subject = (
        await fetch(
            hosts.database_url, "SELECT subject_id FROM conversation WHERE id = $1", conversation
        )
    )[0]["subject_id"]
    destroyed = await dpo.post(
        f"/admin/dpo/subjects/{subject}/destroy",
        data={"confirm": "yes", "reason": "по требованию", "_csrf_token": dpo.csrf},
        timeout=60,  # a destruction searches and rewrites tables: seconds on a busy machine
    )
    await dpo.aclose()
    assert destroyed.status_code == 303, destroyed.text
    assert data not in hosts.s3.objects().values()
    gone = await operator.http_client.get(sent["attachment"]["url"])
    assert gone.status_code == 404
    await operator.close()
    await client.close()


async def test_the_jobs_run_once_across_hosts(hosts: Hosts, accounts: dict[str, str]) -> None:
    # A mailing composed on host one is sent by whichever host's sender takes it, once.
    supervisor = await Staff.open(hosts.two.url, accounts["supervisor"])
    tag = f"t{uuid.uuid4().hex[:8]}"
    client = await Client.open(hosts.one.url)
    conversation = (await client.say("Здравствуйте"))["conversation"]
    await supervisor.open_conversation(conversation)
    tagged = await supervisor.http_client.post(
        f"/api/staff/conversations/{conversation}/tags",
        json={"tags": [tag]},
        headers={"x-csrf-token": supervisor.http_client.csrf},
    )
    assert tagged.status_code == 201, tagged.text
    await offer_and_accept(client, supervisor, conversation, purpose="advertising-chat")
    admin = await staff_client(hosts.one.url, "admin", ADMIN_PASSWORD)
    mailing = await compose(admin, tag, "Скидка для двух серверов")
    scheduled = await admin.post(
        f"/admin/mailings/{mailing}/schedule", data={"_csrf_token": admin.csrf}
    )
    await admin.aclose()
    assert scheduled.status_code == 303
    received = await client.message(text="Скидка для двух серверов", wait=20)
    assert received["author"]["kind"] == "bot"
    await asyncio.sleep(1)  # the other host's sender had its chance to send it again
    copies = await fetch(
        hosts.database_url,
        "SELECT count(*) FROM message WHERE conversation_id = $1 AND body = $2",
        conversation,
        "Скидка для двух серверов",
    )
    assert copies[0]["count"] == 1

    # The processing log is sealed by both hosts' sealers: each row chained once, in order.
    deadline = asyncio.get_running_loop().time() + 15
    while (await fetch(hosts.database_url, "SELECT count(*) FROM processing_log_unsealed"))[0][
        "count"
    ]:
        assert asyncio.get_running_loop().time() < deadline, "the sealers left rows unsealed"
        await asyncio.sleep(0.2)
    chained = (
        await fetch(
            hosts.database_url,
            "SELECT count(*) AS rows, count(DISTINCT log_id) AS logs,"
            " (SELECT count(*) FROM processing_log) AS written FROM processing_log_chain",
        )
    )[0]
    assert chained["rows"] == chained["logs"] == chained["written"]
    verified = await asyncio.to_thread(okno, hosts, "log", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr

    # Retention started on both hosts at once: never two runs at the same time (the advisory
    # lock); a host that finds one running says so and does nothing.
    runs = await asyncio.gather(
        *(asyncio.to_thread(okno, hosts, "retention", "run", folder=n) for n in (0, 1, 0, 1))
    )
    assert [run.returncode for run in runs] == [0, 0, 0, 0], [run.stderr for run in runs]
    done = [run for run in runs if "задание хранения выполнено" in run.stdout]
    rows = await fetch(
        hosts.database_url,
        "SELECT started_at, finished_at FROM retention_run WHERE started_by = 'cli'"
        " ORDER BY started_at",
    )
    assert len(rows) == len(done) >= 1
    for earlier, later in itertools.pairwise(rows):
        assert earlier["finished_at"] <= later["started_at"], "two retention runs overlapped"
    await supervisor.close()
    await client.close()


def okno(hosts: Hosts, *args: str, folder: int = 0) -> subprocess.CompletedProcess[str]:
    """The ``okno`` command on one of the hosts."""
    return subprocess.run(
        [sys.executable, "-m", "okno.platform.cli", *args],
        env={
            **os.environ,
            **hosts.env,
            "OKNO_DATA_DIR": str(hosts.folders[folder]),
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
