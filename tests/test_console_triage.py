"""The console's triage API refuses what it should, changing nothing: bulk actions are for
supervisors and authorized per conversation, snoozes only into the near future, filters and
notification preferences only within their values (docs/protocol.md, HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from okno.platform.staff.roles import Role
from tests.chat_support import Client, resolve
from tests.conftest import staff_client


def csrf(client) -> dict[str, str]:
    return {"x-csrf-token": client.csrf, "accept": "application/json"}


async def test_bulk_actions_are_a_supervisors_and_checked_one_by_one(
    base_url, make_staff, database_url
) -> None:
    operator = await make_staff(Role.OPERATOR)
    boss = await make_staff(Role.SUPERVISOR)
    client = await Client.open(base_url)
    conversation = (await client.say("Помогите с возвратом"))["conversation"]
    as_operator = await staff_client(base_url, operator.login)
    as_boss = await staff_client(base_url, boss.login)
    try:
        refused = await as_operator.post(
            "/api/staff/conversations/bulk",
            json={"ids": [conversation], "action": "resolve"},
            headers=csrf(as_operator),
        )
        assert refused.status_code == 403
        assert "старших операторов" in refused.json()["detail"]

        no_csrf = await as_boss.post(
            "/api/staff/conversations/bulk", json={"ids": [conversation], "action": "resolve"}
        )
        assert no_csrf.status_code == 403

        done = await as_boss.post(
            "/api/staff/conversations/bulk",
            json={"ids": [conversation, 10**11], "action": "tag", "tag": "возврат"},
            headers=csrf(as_boss),
        )
        assert done.status_code == 200, done.text
        outcomes = {o["id"]: o for o in done.json()["outcomes"]}
        assert outcomes[conversation]["done"] is True
        assert outcomes[10**11]["done"] is False
        assert "нет такого диалога" in outcomes[10**11]["detail"]

        unknown = await as_boss.post(
            "/api/staff/conversations/bulk",
            json={"ids": [conversation], "action": "delete"},
            headers=csrf(as_boss),
        )
        assert unknown.status_code == 400
    finally:
        await as_operator.aclose()
        await as_boss.aclose()
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            "SELECT tags, status FROM conversation WHERE id = $1", conversation
        )
    finally:
        await conn.close()
    assert list(row["tags"]) == ["возврат"]
    assert row["status"] != "resolved"  # the operator's refused bulk resolve changed nothing
    await resolve(base_url, boss.login, [conversation])  # nothing left waiting
    await client.close()


async def test_snoozes_filters_and_preferences_refuse_bad_values(
    base_url, make_staff, database_url
) -> None:
    boss = await make_staff(Role.SUPERVISOR)
    client = await Client.open(base_url)
    conversation = (await client.say("Когда привезут?"))["conversation"]
    http = await staff_client(base_url, boss.login)
    try:
        past = datetime.now(UTC) - timedelta(minutes=5)
        too_far = datetime.now(UTC) + timedelta(days=31)
        for until in (past, too_far):
            answer = await http.post(
                f"/api/staff/conversations/{conversation}/snooze",
                json={"until": until.isoformat()},
                headers=csrf(http),
            )
            assert answer.status_code == 400, answer.text
            assert "в будущем, до 30 дней" in answer.json()["detail"]
        assert (
            await http.post(
                "/api/staff/conversations/999999999/snooze",
                json={"until": None},
                headers=csrf(http),
            )
        ).status_code == 404

        for query in ("status=closed", "topic=ЗАКАЗ", "team=x"):
            listed = await http.get(
                f"/api/staff/conversations?box=all&{query}", headers={"accept": "application/json"}
            )
            assert listed.status_code == 400, query

        loud = await http.post("/api/staff/preferences", json={"volume": 101}, headers=csrf(http))
        assert loud.status_code == 400
        saved = await http.post(
            "/api/staff/preferences",
            json={"sound_mine": False, "volume": 30},
            headers=csrf(http),
        )
        assert saved.status_code == 200
        again = (await http.get("/api/staff/preferences")).json()
        assert again["sound_mine"] is False
        assert again["volume"] == 30
        assert again["desktop_details"] is False  # never on unless the operator opts in
    finally:
        await http.aclose()
    conn = await asyncpg.connect(database_url)
    try:
        snoozed = await conn.fetchval(
            "SELECT snoozed_until FROM conversation WHERE id = $1", conversation
        )
    finally:
        await conn.close()
    assert snoozed is None
    await resolve(base_url, boss.login, [conversation])  # nothing left waiting
    await client.close()
