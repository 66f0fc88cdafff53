"""Journey 3: a chat transferred to a team with nobody online waits in that team's queue.

The client is told where it stands: the note «Диалог передан в команду …», no operator, and
its place in the new team's queue.
"""

from __future__ import annotations

from typing import Any

from tests.admin_support import Console
from tests.chat_support import Client, Staff
from tests.conftest import STAFF_PASSWORD
from tests.journeys.conftest import Install, visitor


async def assigned(client: Client) -> dict[str, Any]:
    """The state frame that names the client's operator (earlier states are read past)."""
    states = [f for f in client.frames if f["type"] == "state"]
    if states and states[-1]["operator"] is not None:
        return states[-1]
    while True:
        state = await client.until("state", wait=10)
        if state["operator"] is not None:
            return state


async def test_a_chat_transferred_to_a_team_with_nobody_online_waits_in_its_queue(
    install: Install, admin: Console, closing: list[Any]
) -> None:
    accounting = await admin.create_team("Бухгалтерия")
    await admin.create_account("anna", "operator", STAFF_PASSWORD, name="Анна")  # «Поддержка»
    await admin.create_account(
        "gleb", "operator", STAFF_PASSWORD, name="Глеб", team_id=accounting, max_chats=1
    )  # not signed in yet
    anna = await Staff.open(install.url, "anna")
    closing.append(anna)

    first = await visitor(install, "payment", "нужен акт сверки")
    second = await visitor(install, "payment", "и мне счёт-фактуру")
    closing.extend([first, second])
    for client in (first, second):
        assert (await assigned(client))["operator"]["name"] == "Анна"

    for client, place in ((first, 1), (second, 2)):
        await anna.send(
            type="transfer",
            conversation=client.conversation,  # type: ignore[attr-defined]
            to_team=accounting,
        )
        note = await client.message(text="Диалог передан в команду «Бухгалтерия»", wait=10)
        assert note["author"]["kind"] == "system"
        state = await client.until("state", wait=10, operator=None)
        assert state["queue_position"] == place
        assert await install.routed(client) == (None, "Бухгалтерия")

    # Gleb comes online: the oldest waiting chat is his, and (one chat at a time for him) the
    # other moves up.
    gleb = await Staff.open(install.url, "gleb")
    closing.append(gleb)
    assert (await assigned(first))["operator"]["name"] == "Глеб"
    assert (await second.until("state", wait=10, queue_position=1))["operator"] is None
    assert await install.routed(second) == (None, "Бухгалтерия")
