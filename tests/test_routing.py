"""Each topic's assignment mode: in turn, to the least loaded, or by hand (the queue only).

A fresh team and its topics are made on the console's pages, so the session's other
operators take no part.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest

from okno.platform import database
from tests.admin_support import Console, admin_console
from tests.chat_support import Client, Staff
from tests.conftest import STAFF_PASSWORD


class Desk:
    """A team with a topic per assignment mode, and two online operators, Anna and Boris."""

    def __init__(self, base_url: str, admin: Console, suffix: str) -> None:
        self.base_url, self.admin, self.suffix = base_url, admin, suffix
        self.opened: list[Any] = []

    def slug(self, mode: str) -> str:
        return f"{mode.replace('_', '-')}-{self.suffix}"

    def login(self, name: str) -> str:
        return f"{name}-{self.suffix}"

    async def client(self, mode: str, text: str) -> int:
        """A visitor picks the mode's topic and writes; returns the conversation."""
        client = await Client.open(self.base_url)
        self.opened.append(client)
        await client.send(type="topic", slug=self.slug(mode))
        await client.until("state", topic=self.slug(mode))
        conversation = (await client.say(text))["conversation"]
        await client.say("жду")  # handled after the first message's assignment was tried
        return conversation

    async def assignee(self, conversation: int) -> str | None:
        async with database.acquire() as conn:
            login = await conn.fetchval(
                "SELECT u.login FROM conversation c LEFT JOIN staff_user u"
                " ON u.id = c.assignee_id WHERE c.id = $1",
                conversation,
            )
        return login.removesuffix(f"-{self.suffix}") if login else None


@pytest.fixture
async def desk(base_url: str, db: None) -> AsyncIterator[Desk]:
    admin = await admin_console(base_url)
    desk = Desk(base_url, admin, secrets.token_hex(3))
    team = await admin.create_team(f"Стол {desk.suffix}")
    for mode in ("round_robin", "least_loaded", "manual"):
        await admin.create_topic(desk.slug(mode), f"Тема {mode} {desk.suffix}", team, mode)
    operators = {}
    for name in ("anna", "boris"):
        await admin.create_account(desk.login(name), "operator", STAFF_PASSWORD, team_id=team)
        operators[name] = await Staff.open(base_url, desk.login(name))
        desk.opened.append(operators[name])
    desk.operators = operators  # type: ignore[attr-defined]
    yield desk
    for slug in [desk.slug(m) for m in ("round_robin", "least_loaded", "manual")]:
        await admin.archive_topic(slug)  # the session's clients see the installed topics only
    for item in desk.opened:
        await item.close()
    await admin.close()


async def test_in_turn_goes_to_whoever_waited_longest_least_loaded_to_the_freest(desk) -> None:
    first = await desk.client("round_robin", "раз")
    second = await desk.client("round_robin", "два")
    third = await desk.client("round_robin", "три")
    assert [await desk.assignee(c) for c in (first, second, third)] == ["anna", "boris", "anna"]

    # Anna closes both her chats: she was assigned last, but now holds none.
    for conversation in (first, third):
        await desk.operators["anna"].send(
            type="status", conversation=conversation, status="resolved"
        )
        await desk.operators["anna"].until(
            "conversation", wait=10, id=conversation, status="resolved"
        )
    least_loaded = await desk.client("least_loaded", "кому меньше")
    assert await desk.assignee(least_loaded) == "anna"
    in_turn = await desk.client("round_robin", "по очереди")
    assert await desk.assignee(in_turn) == "boris"


async def test_by_hand_waits_in_the_queue_however_free_the_team(desk) -> None:
    conversation = await desk.client("manual", "сам выберу")
    assert await desk.assignee(conversation) is None
    queue = await desk.operators["boris"].http_client.get(
        "/api/staff/conversations", params={"box": "queue"}, headers={"accept": "application/json"}
    )
    assert conversation in [c["id"] for c in queue.json()["conversations"]]
    await desk.operators["boris"].send(type="take", conversation=conversation)
    while True:
        summary = await desk.operators["boris"].until("conversation", wait=10, id=conversation)
        if summary["assignee"] is not None:
            break
    assert await desk.assignee(conversation) == "boris"
