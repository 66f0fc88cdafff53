"""Journey 1: the admin's first day on a fresh install, through the console, the CLI and chats.

The printed admin signs in and sets a password, creates two teams and their topics, three
operators with their capacities (two in the console, one with ``okno user add``) and a
supervisor. Clients who pick a topic land with an operator of that topic's team; an operator
at capacity gets no more; the supervisor sees every conversation; the audit log shows the day.
"""

from __future__ import annotations

import html
from typing import Any

from tests.admin_support import Console, okno
from tests.chat_support import Staff
from tests.conftest import STAFF_PASSWORD
from tests.journeys.conftest import Install, visitor

NEW_ADMIN_PASSWORD = "my-own-admin-password-1"


async def test_the_admins_first_day(install: Install, closing: list[Any]) -> None:
    # The admin signs in with the password okno printed, and must choose one first.
    admin = Console(install.url)
    closing.append(admin)
    signed_in = await admin.submit("/admin/login", login="admin", password=install.admin_password)
    assert signed_in.headers["location"] == "/admin/password"
    changed = await admin.submit(
        "/admin/password",
        current=install.admin_password,
        new=NEW_ADMIN_PASSWORD,
        repeat=NEW_ADMIN_PASSWORD,
    )
    assert changed.headers["location"] == "/admin/login?changed=1"
    admin = await Console.sign_in(install.url, "admin", NEW_ADMIN_PASSWORD)
    closing.append(admin)

    # Two teams, each with its topic; the installed topics go to the archive.
    sales = await admin.create_team("Продажи")
    returns = await admin.create_team("Возвраты")
    await admin.create_topic("buy", "Купить", sales)
    await admin.create_topic("refund", "Вернуть товар", returns, "least_loaded")
    for slug in ("orders", "payment", "other"):
        await admin.archive_topic(slug)
    assert "Купить" in admin.page
    assert "Вернуть товар" in admin.page

    # Three operators with capacities: two in the console, one on the server's command line.
    await admin.create_account(
        "anna", "operator", STAFF_PASSWORD, name="Анна", team_id=sales, max_chats=1
    )
    await admin.create_account(
        "boris", "operator", STAFF_PASSWORD, name="Борис", team_id=sales, max_chats=1
    )
    added = okno(
        "user", "add", "vera", "--role", "operator", "--name", "Вера",
        "--team", "Возвраты", "--max-chats", "2",
        database_url=install.database_url, OKNO_PASSWORD=STAFF_PASSWORD,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "команда Возвраты" in added.stdout
    await admin.create_account("sveta", "supervisor", STAFF_PASSWORD, name="Света")
    staff_page = html.unescape(await admin.open("/admin/staff/"))
    for login in ("anna", "boris", "vera", "sveta"):
        assert f'href="/admin/staff/{login}"' in staff_page
    assert (
        await install.fetch(
            "SELECT u.login, t.name, u.max_chats FROM team_member m"
            " JOIN staff_user u ON u.id = m.staff_id JOIN team t ON t.id = m.team_id"
            " ORDER BY u.login"
        )
    ) == [
        ("anna", "Продажи", 1),
        ("boris", "Продажи", 1),
        ("vera", "Возвраты", 2),
    ]

    # The operators open the console; clients pick topics and land in the right team.
    for login in ("anna", "boris", "vera"):
        closing.append(await Staff.open(install.url, login))
    first = await visitor(install, "buy", "хочу купить диван")
    refund = await visitor(install, "refund", "верните деньги")
    second = await visitor(install, "buy", "и кресло")
    closing.extend([first, refund, second])
    assert await install.routed(refund) == ("vera", "Возвраты")
    sellers = {await install.routed(first), await install.routed(second)}
    assert sellers == {("anna", "Продажи"), ("boris", "Продажи")}

    # Both sellers are at capacity: the next buyer waits, first in the queue.
    third = await visitor(install, "buy", "а стол есть?")
    closing.append(third)
    assert await install.routed(third) == (None, "Продажи")
    waiting = [f for f in third.frames if f["type"] == "state"][-1]
    assert waiting["queue_position"] == 1
    assert waiting["operator"] is None
    # Vera has room, but is not in «Продажи».
    assert (
        await install.fetchval(
            "SELECT count(*) FROM conversation c JOIN staff_user u ON u.id = c.assignee_id"
            " WHERE u.login = 'vera'"
        )
        == 1
    )

    # The supervisor sees all four conversations; an operator sees only their team's.
    supervisor = await Staff.open(install.url, "sveta")
    closing.append(supervisor)
    supervisor.http_client.headers["accept"] = "application/json"
    everything = await supervisor.http_client.get("/api/staff/conversations?box=all")
    assert len(everything.json()["conversations"]) == 4
    vera = await Staff.open(install.url, "vera")
    closing.append(vera)
    vera.http_client.headers["accept"] = "application/json"
    queue = (await vera.http_client.get("/api/staff/conversations?box=queue")).json()
    assert queue["conversations"] == []
    assert (await vera.http_client.get("/api/staff/conversations?box=all")).status_code == 403

    # The day is in the audit log, which only admins may read.
    audit = html.unescape(await admin.open("/admin/audit/?entity=team"))
    assert "Команда «Продажи»" in audit
    assert "Команда «Возвраты»" in audit
    audit = html.unescape(await admin.open("/admin/audit/?entity=topic"))
    assert "Направление «refund»" in audit
    assert "least_loaded" in audit
    audit = html.unescape(await admin.open("/admin/audit/?entity=account&actor=admin"))
    assert "Сотрудник «anna»" in audit
    assert "Сотрудник «vera»" not in audit
    audit = html.unescape(await admin.open("/admin/audit/?entity=account"))
    assert "Сотрудник «vera»" in audit
    assert "командная строка" in audit
    vera.http_client.headers["accept"] = "text/html"
    assert (await vera.http_client.get("/admin/audit/")).status_code == 403
