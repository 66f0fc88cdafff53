"""The admin manages accounts, teams and topics on the console's pages; bad input changes nothing.

Each change that ends sessions or changes rights ends them at once; each is in the audit log.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import AsyncIterator

import httpx
import pytest

from okno.platform import database
from okno.platform.staff.roles import Role
from tests.admin_support import Console, admin_console
from tests.conftest import STAFF_PASSWORD, staff_client


async def login(base_url: str, login: str, password: str) -> httpx.Response:
    console = Console(base_url)
    # From an address of its own (the server trusts X-Forwarded-For from 127.0.0.1): the
    # per-address back-off of other tests' failures must not hold this one back.
    console.http.headers["x-forwarded-for"] = ".".join(
        str(secrets.randbelow(250) + 1) for _ in range(4)
    )
    try:
        return await console.submit("/admin/login", login=login, password=password)
    finally:
        await console.close()


@pytest.fixture
async def admin(base_url: str) -> AsyncIterator[Console]:
    console = await admin_console(base_url)
    yield console
    await console.close()


async def test_a_password_reset_shows_a_one_time_password_once_and_ends_sessions(
    base_url, admin, make_staff
) -> None:
    user = await make_staff(Role.OPERATOR)
    signed_in = await staff_client(base_url, user.login)
    response = await admin.submit(
        f"/admin/staff/{user.login}", f"/admin/staff/{user.login}/password"
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    one_time = re.search(r'<code class="one-time-password">([^<]+)</code>', admin.page).group(1)
    assert one_time not in await admin.open(f"/admin/staff/{user.login}")  # shown once

    assert (await signed_in.get("/admin")).status_code in (302, 401)  # the old session ended
    await signed_in.aclose()
    assert (await login(base_url, user.login, STAFF_PASSWORD)).status_code == 401
    first = await login(base_url, user.login, one_time)
    assert first.headers["location"] == "/admin/password"  # must choose a password
    assert "пароль сброшен" in html.unescape(await admin.open("/admin/audit/?entity=account"))


async def test_an_admin_lifts_a_lock_out(base_url, admin, make_staff) -> None:
    user = await make_staff(Role.OPERATOR)
    for _ in range(5):
        await login(base_url, user.login, "not-the-password")
    assert (await login(base_url, user.login, STAFF_PASSWORD)).status_code == 429
    assert "вход заблокирован" in await admin.open(f"/admin/staff/{user.login}")
    response = await admin.submit(f"/admin/staff/{user.login}", f"/admin/staff/{user.login}/unlock")
    assert response.status_code == 303
    assert (await login(base_url, user.login, STAFF_PASSWORD)).status_code == 303


async def test_a_role_change_ends_the_sessions_and_grants_the_new_rights(
    base_url, admin, make_staff
) -> None:
    user = await make_staff(Role.OPERATOR)
    before = await staff_client(base_url, user.login)
    before.headers["accept"] = "application/json"
    assert (await before.get("/api/staff/conversations?box=all")).status_code == 403
    response = await admin.submit(
        f"/admin/staff/{user.login}", f"/admin/staff/{user.login}/role", role="supervisor"
    )
    assert response.status_code == 303
    assert (await before.get("/api/staff/conversations?box=all")).status_code == 401
    await before.aclose()
    after = await staff_client(base_url, user.login)
    after.headers["accept"] = "application/json"
    assert (await after.get("/api/staff/conversations?box=all")).status_code == 200
    await after.aclose()


async def test_an_admin_cannot_change_their_own_role(base_url, admin) -> None:
    response = await admin.submit("/admin/staff/admin", "/admin/staff/admin/role", role="operator")
    assert response.status_code == 400
    assert "собственной" in admin.alert()


async def test_a_disabled_account_signs_in_again_once_enabled(base_url, admin, make_staff) -> None:
    user = await make_staff(Role.OPERATOR)
    page = f"/admin/staff/{user.login}"
    assert (await admin.submit(page, f"{page}/disable")).status_code == 303
    assert (await login(base_url, user.login, STAFF_PASSWORD)).status_code == 401
    assert (await admin.submit(page, f"{page}/enable")).status_code == 303
    assert (await login(base_url, user.login, STAFF_PASSWORD)).status_code == 303


async def test_name_pseudonym_and_capacity_are_changed_and_bad_values_refused(
    base_url, admin, make_staff
) -> None:
    user = await make_staff(Role.OPERATOR)
    await admin.set_profile(user.login, display_name="Анна", pseudonym="Аня", max_chats="7")
    async with database.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT display_name, pseudonym, max_chats FROM staff_user WHERE id = $1", user.id
        )
    assert tuple(row) == ("Анна", "Аня", 7)
    for field, value, message in (
        ("max_chats", "101", "от 0 до 100"),
        ("max_chats", "много", "цифрами"),
        ("display_name", " ", "имя"),
    ):
        page = f"/admin/staff/{user.login}"
        response = await admin.submit(
            page,
            f"{page}/profile",
            **{"display_name": "Анна", "pseudonym": "Аня", "max_chats": "7", field: value},
        )
        assert response.status_code == 400
        assert message in admin.alert()
    async with database.acquire() as conn:
        assert await conn.fetchval("SELECT max_chats FROM staff_user WHERE id = $1", user.id) == 7
    audit = html.unescape(await admin.open("/admin/audit/?entity=account"))
    assert "max_chats: 5 → 7" in audit


async def test_teams_refuse_what_would_strand_chats(base_url, admin) -> None:
    name = f"Команда {secrets.token_hex(2)}"
    team = await admin.create_team(name)
    response = await admin.submit("/admin/teams/", name=name)
    assert response.status_code == 400
    assert "уже есть" in admin.alert()

    slug = f"t-{secrets.token_hex(2)}"
    await admin.create_topic(slug, "Тема команды", team)
    refused = await admin.submit(f"/admin/teams/{team}", f"/admin/teams/{team}/archive")
    assert refused.status_code == 400
    assert "сначала перенаправьте" in admin.alert()
    default = await admin.submit("/admin/teams/1", "/admin/teams/1/archive")
    assert default.status_code == 400
    assert "по умолчанию" in admin.alert()

    await admin.archive_topic(slug)
    assert (
        await admin.submit(f"/admin/teams/{team}", f"/admin/teams/{team}/archive")
    ).status_code == 303
    assert "в архиве" in await admin.open("/admin/teams/")
    assert (
        await admin.submit(f"/admin/teams/{team}", f"/admin/teams/{team}/restore")
    ).status_code == 303


async def test_a_topic_needs_a_valid_code_team_and_mode(base_url, admin) -> None:
    for fields, message in (
        ({"slug": "Не латиница", "team_id": "1", "assignment": "manual"}, "код темы"),
        ({"slug": "ok-slug", "team_id": "999", "assignment": "manual"}, "действующую команду"),
        ({"slug": "ok-slug", "team_id": "1", "assignment": "lottery"}, "способ назначения"),
        ({"slug": "ok-slug", "team_id": "x", "assignment": "manual"}, "из списка"),
    ):
        response = await admin.submit("/admin/topics/", title="Тема", **fields)
        assert response.status_code == 400, fields
        assert message in admin.alert()
    assert "ok-slug" not in await admin.open("/admin/topics/")


async def test_topics_are_reordered_as_the_client_sees_them(base_url, admin) -> None:
    slug = f"r-{secrets.token_hex(2)}"
    await admin.create_topic(slug, "Последняя тема", 1)
    async with httpx.AsyncClient(base_url=base_url) as visitor:
        page = await visitor.get("/chat")
    assert page.text.index("Последняя тема") > page.text.index("Заказ и доставка")
    row = (await admin.open("/admin/topics/")).split(f"<td>{slug}</td>")[1]
    topic = re.search(r'/admin/topics/(\d+)/edit"', row).group(1)
    for _ in range(10):
        await admin.submit("/admin/topics/", f"/admin/topics/{topic}/up")
    async with httpx.AsyncClient(base_url=base_url) as visitor:
        page = await visitor.get("/chat")
    assert page.text.index("Последняя тема") < page.text.index("Заказ и доставка")
    await admin.archive_topic(slug)  # leave the session's topics as they were


async def test_a_supervisor_changes_the_members_of_their_own_teams_only(
    base_url, admin, make_staff
) -> None:
    own = await admin.create_team(f"Своя {secrets.token_hex(2)}")
    other = await admin.create_team(f"Чужая {secrets.token_hex(2)}")
    lead = await make_staff(Role.SUPERVISOR)
    await admin.add_member(own, lead.login)
    operator = await make_staff(Role.OPERATOR)

    supervisor = await Console.sign_in(base_url, lead.login, STAFF_PASSWORD)
    await supervisor.add_member(own, operator.login)
    assert "Переименовать" not in supervisor.page  # renaming and archiving stay the admin's
    refused = await supervisor.submit(
        f"/admin/teams/{other}", f"/admin/teams/{other}/members", staff_id=str(operator.id)
    )
    assert refused.status_code == 400
    assert "только своих команд" in supervisor.alert()
    renamed = await supervisor.submit(
        f"/admin/teams/{own}", f"/admin/teams/{own}/rename", name="Новое имя"
    )
    assert renamed.status_code == 403
    await supervisor.remove_member(own, operator.id)
    await supervisor.close()
    audit = html.unescape(await admin.open(f"/admin/audit/?entity=team&actor={lead.login}"))
    assert "добавлен участник" in audit
    assert "удалён участник" in audit


async def test_the_default_team_is_changed_and_new_operators_join_it(
    base_url, admin, make_staff
) -> None:
    name = f"Новички {secrets.token_hex(2)}"
    team = await admin.create_team(name)
    assert (
        await admin.submit(f"/admin/teams/{team}", f"/admin/teams/{team}/default")
    ).status_code == 303
    try:
        await admin.create_account(f"new-{secrets.token_hex(2)}", "operator", STAFF_PASSWORD)
        assert name in html.unescape(await admin.open("/admin/staff/"))
        renamed = f"{name} (переименована)"
        response = await admin.submit(
            f"/admin/teams/{team}", f"/admin/teams/{team}/rename", name=renamed
        )
        assert response.status_code == 303
        assert renamed in html.unescape(admin.page)
    finally:
        assert (await admin.submit("/admin/teams/1", "/admin/teams/1/default")).status_code == 303
    audit = html.unescape(await admin.open("/admin/audit/?entity=team"))
    assert f"name: {name} → {renamed}" in audit
    assert f"default: {renamed} → Поддержка" in audit


async def test_a_topic_is_edited_and_clients_see_the_new_title(base_url, admin) -> None:
    slug = f"e-{secrets.token_hex(2)}"
    await admin.create_topic(slug, "Старое название", 1)
    row = (await admin.open("/admin/topics/")).split(f"<td>{slug}</td>")[1]
    topic = re.search(r'/admin/topics/(\d+)/edit"', row).group(1)
    response = await admin.submit(
        "/admin/topics/",
        f"/admin/topics/{topic}/edit",
        title="Новое название",
        team_id="1",
        assignment="manual",
    )
    assert response.status_code == 303
    async with httpx.AsyncClient(base_url=base_url) as visitor:
        page = (await visitor.get("/chat")).text
    assert "Новое название" in page
    assert "Старое название" not in page
    await admin.archive_topic(slug)
    async with httpx.AsyncClient(base_url=base_url) as visitor:
        assert "Новое название" not in (await visitor.get("/chat")).text
    audit = html.unescape(await admin.open("/admin/audit/?entity=topic"))
    assert "title: Старое название → Новое название" in audit
    assert "assignment: round_robin → manual" in audit
