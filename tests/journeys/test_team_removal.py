"""Journey 4: an operator taken out of a team stops seeing its queue and its chats at once."""

from __future__ import annotations

import re
from typing import Any

from tests.admin_support import Console
from tests.chat_support import Staff
from tests.conftest import STAFF_PASSWORD
from tests.journeys.conftest import Install, visitor


async def wholesale_desk(install: Install, admin: Console) -> tuple[int, int]:
    """A team «Опт» whose topic is assigned by hand, and Olga in it; returns (team, Olga)."""
    team = await admin.create_team("Опт")
    await admin.create_topic("wholesale", "Оптовые закупки", team, "manual")
    await admin.create_account("olga", "operator", STAFF_PASSWORD, name="Ольга", team_id=team)
    page = await admin.open(f"/admin/teams/{team}")
    olga = re.search(rf"/admin/teams/{team}/members/(\d+)/remove", page)
    assert olga, "Olga is not listed in her team"
    return team, int(olga.group(1))


async def test_over_http_at_once(install: Install, admin: Console, closing: list[Any]) -> None:
    team, olga_id = await wholesale_desk(install, admin)
    olga = await Staff.open(install.url, "olga")
    closing.append(olga)
    http = olga.http_client
    http.headers["accept"] = "application/json"
    client = await visitor(install, "wholesale", "нужна тонна гвоздей")
    closing.append(client)
    conversation = client.conversation  # type: ignore[attr-defined]
    # Assigned by hand: it waits in the team's queue, where Olga sees it.
    assert await install.routed(client) == (None, "Опт")
    queue = (await http.get("/api/staff/conversations", params={"box": "queue"})).json()
    assert [c["id"] for c in queue["conversations"]] == [conversation]
    messages = await http.get(f"/api/staff/conversations/{conversation}/messages")
    assert messages.status_code == 200

    await admin.remove_member(team, olga_id)
    assert f"/members/{olga_id}/remove" not in admin.page

    queue = (await http.get("/api/staff/conversations", params={"box": "queue"})).json()
    assert queue["conversations"] == []
    messages = await http.get(f"/api/staff/conversations/{conversation}/messages")
    assert messages.status_code == 404
    assert (
        await install.fetchval("SELECT count(*) FROM team_member WHERE staff_id = $1", olga_id) == 0
    )


async def test_over_an_open_socket_at_once(
    install: Install, admin: Console, closing: list[Any]
) -> None:
    team, olga_id = await wholesale_desk(install, admin)
    olga = await Staff.open(install.url, "olga")
    closing.append(olga)
    client = await visitor(install, "wholesale", "нужна тонна гвоздей")
    closing.append(client)
    conversation = client.conversation  # type: ignore[attr-defined]
    history = await olga.open_conversation(conversation)
    assert [m["text"] for m in history][:1] == ["нужна тонна гвоздей"]

    await admin.remove_member(team, olga_id)

    ended = await olga.until("access_ended", wait=10)
    assert ended["conversation"] == conversation
    await olga.send(type="open", conversation=conversation)
    refused = await olga.until("error", wait=10)
    assert refused["code"] == "not_found"
    await client.say("а саморезы?")
    later = await olga.quiet(1)
    assert not any(f["type"] == "message" and f["message"]["text"] == "а саморезы?" for f in later)
