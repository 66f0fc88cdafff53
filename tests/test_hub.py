"""The hub's queue positions: who waits behind a conversation that leaves the queue moves up."""

from __future__ import annotations

import pytest

from okno.platform.staff.roles import Role
from tests.chat_support import Client, Staff, new_team

pytestmark = pytest.mark.timeout(60)


async def test_the_clients_behind_move_up_when_the_one_ahead_is_taken(base_url, make_staff) -> None:
    ahead, behind = await Client.open(base_url), await Client.open(base_url)
    user = await make_staff(Role.SUPERVISOR)
    supervisor = await Staff.open(base_url, user.login)
    try:
        first = await ahead.say("я первый в очереди")
        await behind.say("я за ним")
        waiting = await behind.until("state", wait=10)
        while waiting.get("queue_position") is None:
            waiting = await behind.until("state", wait=10)
        position = waiting["queue_position"]

        await supervisor.send(type="take", conversation=first["conversation"])
        moved = await behind.until("state", wait=10, queue_position=position - 1)
        assert moved["operator"] is None
        # A newcomer queues behind: it moves nobody ahead of it.
        newcomer = await Client.open(base_url)
        await newcomer.say("я новенький")
        later = [f for f in await behind.quiet(0.5) if f["type"] == "state"]
        assert all(f["queue_position"] == position - 1 for f in later), later
        await newcomer.close()
    finally:
        await ahead.close()
        await behind.close()
        await supervisor.close()


async def test_a_queue_position_counts_only_the_same_teams_queue(base_url, make_staff) -> None:
    ahead, behind = await Client.open(base_url), await Client.open(base_url)
    user = await make_staff(Role.SUPERVISOR)
    supervisor = await Staff.open(base_url, user.login)
    try:
        first = await ahead.say("мне нужен биллинг")
        await behind.say("а я подожду здесь")
        waiting = await behind.until("state", wait=10)
        while waiting.get("queue_position") is None:
            waiting = await behind.until("state", wait=10)
        position = waiting["queue_position"]

        billing = await new_team("Биллинг")
        await supervisor.send(type="transfer", conversation=first["conversation"], to_team=billing)
        alone = await ahead.until("state", wait=10, queue_position=1)
        assert alone["operator"] is None
        # And the queue it left moves up.
        await behind.until("state", wait=10, queue_position=position - 1)
    finally:
        await ahead.close()
        await behind.close()
        await supervisor.close()
