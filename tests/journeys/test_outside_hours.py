"""Journey 2: outside working hours.

A fresh install. The admin sets the working hours of the installed team «Поддержка» in the
console; a client writes in the evening and is told, by the bot and in the queue note, when
the team opens; they leave a message and nobody is assigned, although an operator is online.
The next working morning (the test clock moves; nothing sleeps) the operator comes online and
the conversation is assigned to them.

State is arranged only through okno's surfaces — the console's forms with CSRF, the CLI, the
sockets — and the database is read only to assert. One exception, marked where it is: putting
the operator into the team, for which no surface exists on this branch yet (the teams page is
another branch's work).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.chat_support import Client, Staff
from tests.conftest import ADMIN_PASSWORD, ROOT, STAFF_PASSWORD, ServerProcess, staff_client
from tests.fresh_okno import ClockFile, fresh_okno

SUPPORT = 1  # the team every install starts with, «Поддержка»
WEEKDAYS_9_TO_18 = {
    **{f"{day}_opens": "09:00" for day in ("mon", "tue", "wed", "thu", "fri")},
    **{f"{day}_closes": "18:00" for day in ("mon", "tue", "wed", "thu", "fri")},
}
TUESDAY_EVENING = "2026-12-01T20:15:00+03:00"
WEDNESDAY_MORNING = "2026-12-02T09:00:05+03:00"
NEXT_OPENING = "завтра, 2 декабря, в 09:00 по московскому времени"


@pytest.fixture(scope="module")
def clock(tmp_path_factory: pytest.TempPathFactory) -> ClockFile:
    return ClockFile(tmp_path_factory.mktemp("clock") / "now")


@pytest.fixture(scope="module")
def okno(database_url: str, clock: ClockFile) -> Iterator[ServerProcess]:
    clock.set(TUESDAY_EVENING)
    with fresh_okno(database_url, OKNO_TEST_CLOCK_FILE=str(clock.path)) as server:
        yield server


def okno_cli(server: ServerProcess, *args: str, password: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "okno.platform.cli", *args],
        env={**os.environ, "DATABASE_URL": server.database_url, "OKNO_PASSWORD": password},  # type: ignore[attr-defined]
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )


async def frames_until(peer: Client, *wanted: Callable[[dict[str, Any]], bool]) -> list[dict]:
    """Read frames until each predicate has matched one (in any order); those frames."""
    found: dict[int, dict[str, Any]] = {}
    while len(found) < len(wanted):
        frame = await peer.recv(wait=10)
        for index, matches in enumerate(wanted):
            if index not in found and matches(frame):
                found[index] = frame
    return [found[index] for index in range(len(wanted))]


async def set_hours(admin: httpx.AsyncClient, team: int, **fields: str) -> httpx.Response:
    return await admin.post(
        f"/admin/hours/{team}",
        data={"time_zone": "Europe/Moscow", "_csrf_token": admin.csrf, **fields},  # type: ignore[attr-defined]
    )


async def test_a_client_outside_hours_is_told_when_and_assigned_next_morning(
    okno: ServerProcess, clock: ClockFile, okno_db: asyncpg.Connection, tmp_path: Path
) -> None:
    # The admin signs in and gives «Поддержка» a working week, 9 to 18 Moscow time, closed on
    # the production calendar's holidays.
    admin = await staff_client(okno.url, "admin", ADMIN_PASSWORD)
    saved = await set_hours(admin, SUPPORT, production_calendar="on", **WEEKDAYS_9_TO_18)
    assert saved.status_code == 303, saved.text
    page = await admin.get("/admin/hours")
    assert f"сейчас не работает — откроется {NEXT_OPENING}" in page.text

    # An operator is added on the command line.
    added = okno_cli(
        okno,
        "user",
        "add",
        "olga",
        "--role",
        "operator",
        "--name",
        "Ольга",
        "--team",
        "Поддержка",
        password=STAFF_PASSWORD,
    )
    assert added.returncode == 0, added.stderr
    olga = await okno_db.fetchval("SELECT id FROM staff_user WHERE login = 'olga'")
    assert (
        await okno_db.fetchval("SELECT team_id FROM team_member WHERE staff_id = $1", olga)
        == SUPPORT
    )

    # Olga is online in the evening: she is not given anything while the team is closed.
    operator = await Staff.open(okno.url, "olga")

    # The client opens the chat: before writing they already see that it is after hours.
    client = await Client.open(okno.url)
    lobby = next(f for f in client.frames if f["type"] == "state")
    assert lobby["availability"] == {
        "open": False,
        "next_opening": NEXT_OPENING,
        "operators_online": True,
    }

    # They write; the bot answers with the next opening time, and they leave a message.
    ack = await client.say("Здравствуйте! Хочу вернуть заказ")
    conversation = ack["conversation"]
    reply, queued = await frames_until(
        client,
        lambda f: f["type"] == "message" and f["message"]["author"]["kind"] == "bot",
        lambda f: f["type"] == "state" and f["queue_position"] == 1,
    )
    assert reply["message"]["text"].startswith("Сейчас нерабочее время.")
    assert NEXT_OPENING in reply["message"]["text"]
    assert "оператор скоро ответит" not in reply["message"]["text"].lower()
    assert queued["availability"]["open"] is False
    assert queued["availability"]["next_opening"] == NEXT_OPENING
    await client.say("Номер заказа 4512, размер не подошёл")

    # The operator's presence changing runs the assignment at once; a ping after it shows
    # the frame was handled. Nobody is assigned.
    await operator.send(type="presence", status="away")
    await operator.send(type="presence", status="online")
    await operator.send(type="ping")
    await operator.until("pong")
    row = await okno_db.fetchrow(
        "SELECT assignee_id, waiting_since IS NOT NULL AS waiting FROM conversation WHERE id = $1",
        conversation,
    )
    assert (row["assignee_id"], row["waiting"]) == (None, True)
    bot_replies = await okno_db.fetchval(
        "SELECT count(*) FROM message WHERE conversation_id = $1 AND author_kind = 'bot'",
        conversation,
    )
    assert bot_replies == 1  # told once per wait, not after every message
    await operator.close()

    # The next working morning Olga comes online: the conversation is hers.
    clock.set(WEDNESDAY_MORNING)
    operator = await Staff.open(okno.url, "olga")
    seen = await frames_until(
        client,
        lambda f: f["type"] == "state" and (f["operator"] or {}).get("name") == "Ольга",
        lambda f: (
            f["type"] == "message"
            and f["message"]["text"] == "К диалогу подключился оператор Ольга"
        ),
    )
    assert seen[0]["queue_position"] is None
    assert seen[0]["availability"] is None
    assert (
        await okno_db.fetchval("SELECT assignee_id FROM conversation WHERE id = $1", conversation)
        == olga
    )

    # She sees both messages the client left overnight.
    texts = [m["text"] for m in await operator.open_conversation(conversation)]
    assert "Здравствуйте! Хочу вернуть заказ" in texts
    assert "Номер заказа 4512, размер не подошёл" in texts

    # Every change of the hours is in the staff audit log, with who made it.
    audit = await okno_db.fetchrow(
        "SELECT actor_login, entity, entity_key, after FROM staff_audit WHERE entity = 'team'"
    )
    assert (audit["actor_login"], audit["entity_key"]) == ("admin", "Поддержка")
    await operator.close()
    await client.close()
    await admin.aclose()
