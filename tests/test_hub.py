"""The hub's queue positions: who waits behind a conversation that leaves the queue moves up."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from okno.platform.staff.roles import Role
from tests.chat_support import Client, Staff, new_team

pytestmark = pytest.mark.timeout(60)


class Queue:
    """Two waiting clients, one ahead of the other, and a supervisor who sees both."""

    def __init__(self, ahead: Client, behind: Client, supervisor: Staff) -> None:
        self.ahead, self.behind, self.supervisor = ahead, behind, supervisor


@pytest.fixture
async def queue(base_url, make_staff) -> AsyncIterator[Queue]:
    ahead, behind = await Client.open(base_url), await Client.open(base_url)
    supervisor = await Staff.open(base_url, (await make_staff(Role.SUPERVISOR)).login)
    yield Queue(ahead, behind, supervisor)
    for peer in (ahead, behind, supervisor):
        await peer.close()


async def position_of(client: Client) -> int:
    """The client's place in the queue, from the first state that tells it."""
    state = await client.until("state", wait=10)
    while state.get("queue_position") is None:
        state = await client.until("state", wait=10)
    return state["queue_position"]


async def test_the_clients_behind_move_up_when_the_one_ahead_is_taken(base_url, queue) -> None:
    first = await queue.ahead.say("я первый в очереди")
    await queue.behind.say("я за ним")
    position = await position_of(queue.behind)

    await queue.supervisor.send(type="take", conversation=first["conversation"])
    moved = await queue.behind.until("state", wait=10, queue_position=position - 1)
    assert moved["operator"] is None
    # A newcomer queues behind: it moves nobody ahead of it.
    newcomer = await Client.open(base_url)
    await newcomer.say("я новенький")
    later = [f for f in await queue.behind.quiet(0.5) if f["type"] == "state"]
    assert all(f["queue_position"] == position - 1 for f in later), later
    await newcomer.close()


async def test_a_queue_position_counts_only_the_same_teams_queue(queue) -> None:
    first = await queue.ahead.say("мне нужен биллинг")
    await queue.behind.say("а я подожду здесь")
    position = await position_of(queue.behind)

    billing = await new_team("Биллинг")
    await queue.supervisor.send(
        type="transfer", conversation=first["conversation"], to_team=billing
    )
    alone = await queue.ahead.until("state", wait=10, queue_position=1)
    assert alone["operator"] is None
    # And the queue it left moves up.
    await queue.behind.until("state", wait=10, queue_position=position - 1)
