"""The operator console's notifications, triage and collision in a real browser (issue 16).

Sounds are observed through an init-script hook on WebAudio's ``OscillatorNode.start`` (the
console makes its tunes there, nothing is fetched) and desktop notifications through a hook on
the ``Notification`` constructor, with the permission granted by the test's browser context.
A background tab is the page told it is hidden (``visibilityState``), as a browser tells a tab
the operator switched away from.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest
from playwright.async_api import expect

from okno.platform.staff.roles import Role
from tests.admin_support import Console, admin_console
from tests.browser.conftest import staff_page
from tests.chat_support import Client, Staff, resolve

HOOKS = """
window.__sounds = [];
window.__notes = [];
window.__hidden = false;
const realStart = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function (...args) {
  window.__sounds.push(this.frequency.value);
  return realStart.apply(this, args);
};
Object.defineProperty(Document.prototype, "visibilityState", {
  get: () => (window.__hidden ? "hidden" : "visible"),
});
Object.defineProperty(Document.prototype, "hidden", { get: () => window.__hidden });
const RealNotification = window.Notification;
class HookedNotification extends RealNotification {
  constructor(title, options) {
    super(title, options);
    window.__notes.push({ title, body: (options && options.body) || "" });
  }
}
Object.defineProperty(HookedNotification, "permission", { get: () => RealNotification.permission });
HookedNotification.requestPermission = (...args) => RealNotification.requestPermission(...args);
window.Notification = HookedNotification;
"""


@pytest.fixture
async def reader(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """The database, to assert what the console did (and to move a snooze's time)."""
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


QUEUE_TUNE = 660  # the first note of each tune (admin/static/admin/alerts.js)
TRANSFER_TUNE = 523
MINE_TUNE = 880


async def console_with_hooks(browser, base_url: str, login: str, base: str):
    """The console signed in, with the hooks installed and desktop notifications allowed."""
    page = await staff_page(browser, base_url, login)
    await page.context.grant_permissions(["notifications"], origin=base)
    await page.context.add_init_script(HOOKS)
    await page.goto(f"{base_url}/admin/chats")
    await page.wait_for_function("() => window.okno && window.okno.socket.state === 'open'")
    return page


async def to_background(page) -> None:
    await page.evaluate(
        "() => { window.__hidden = true; document.dispatchEvent(new Event('visibilitychange')); }"
    )


async def sounds(page) -> list[float]:
    return await page.evaluate("() => window.__sounds")


async def notes(page) -> list[dict[str, str]]:
    return await page.evaluate("() => window.__notes")


async def test_a_background_operator_hears_and_sees_new_chats(
    browser, base_url, make_staff, reader: asyncpg.Connection
) -> None:
    # A desk of the operator's own, made on the admin's pages: chats the session's earlier
    # tests left waiting in the default team, and its other online operators, take no part.
    operator = await make_staff(Role.OPERATOR)
    admin = await admin_console(base_url)
    desk = secrets.token_hex(3)
    team = await admin.create_team(f"Стол уведомлений {desk}")
    await admin.add_member(team, operator.login)
    await admin.remove_member(await admin.team_id("Поддержка"), operator.id)
    await admin.create_topic(f"notify-{desk}", f"Уведомления {desk}", team)

    async def client_of_the_desk() -> Client:
        client = await Client.open(base_url)
        await client.send(type="topic", slug=f"notify-{desk}")
        await client.until("state", topic=f"notify-{desk}")
        return client

    console = await console_with_hooks(browser, base_url, operator.login, base_url)
    # Away: a new chat waits in the queue instead of being given to this operator.
    await console.locator(".presence-toggle").click()
    await expect(console.locator(".presence-label")).to_have_text("Отошёл")
    await to_background(console)

    first = await client_of_the_desk()
    chats = [(await first.say("Где мой заказ 4417, Иван Петров?"))["conversation"]]
    await console.wait_for_function(
        f"() => window.__sounds.includes({QUEUE_TUNE}) && window.__notes.length > 0"
    )
    [note] = [n for n in await notes(console) if n["title"] == "Новое обращение"]
    assert "Иван" not in note["body"]  # no PD in the notification unless the operator opts in
    await expect(console).to_have_title(re.compile(r"^\(\d+\) "))  # the tab title counts it

    # The operator opts in to the client's words and turns off the queue's sound; the
    # preferences are theirs, on the server.
    await console.evaluate("() => { window.__hidden = false; }")
    await console.get_by_role("button", name="Уведомления").click()
    dialog = console.get_by_role("dialog", name="Уведомления")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_text("Браузер показывает уведомления okno.")).to_be_visible()
    await dialog.get_by_label("Показывать текст сообщения клиента").check()
    await dialog.get_by_label("Новый диалог в очереди").uncheck()
    await dialog.get_by_role("button", name="Сохранить").click()
    await expect(dialog).to_have_count(0)
    saved = await reader.fetchrow(
        "SELECT sound_queue, desktop_details FROM console_preference WHERE staff_id = $1",
        operator.id,
    )
    assert saved is not None
    assert tuple(saved) == (False, True)

    await console.evaluate("() => { window.__sounds = []; window.__notes = []; }")
    await to_background(console)
    second = await client_of_the_desk()
    chats.append((await second.say("Вернули ли деньги за заказ 5120?"))["conversation"])
    await console.wait_for_function("() => window.__notes.length > 0")
    [note] = [n for n in await notes(console) if n["title"] == "Новое обращение"]
    assert "Вернули ли деньги" in note["body"]
    assert QUEUE_TUNE not in await sounds(console)

    # Back online, the next chat is given to this operator: the transfer's tune, and its list
    # item shows the client's question, not the system's line about the assignment.
    await console.locator(".presence-toggle").click()
    await expect(console.locator(".presence-label")).to_have_text("В сети")
    await to_background(console)
    third = await client_of_the_desk()
    chats.append((await third.say("Подскажите, как поменять адрес доставки?"))["conversation"])
    await console.wait_for_function(f"() => window.__sounds.includes({TRANSFER_TUNE})")
    await console.get_by_role("tab", name=re.compile("Мои")).click()
    item = console.locator(".conv-item", has_text="как поменять адрес доставки")
    await expect(item).to_have_count(1)
    await expect(console.locator(".conv-item-preview", has_text="подключился")).to_have_count(0)

    # A new message in one's own chat: its tune and a notification.
    await console.evaluate("() => { window.__sounds = []; window.__notes = []; }")
    await third.say("И ещё: можно ли доставить в субботу?")
    await console.wait_for_function(f"() => window.__sounds.includes({MINE_TUNE})")
    assert any(n["title"] == "Новое сообщение" for n in await notes(console))

    assert console.errors.errors == []
    await resolve(base_url, operator.login, chats)  # no chat left waiting
    for client in (first, second, third):
        await client.close()
    await admin.close()
    await console.context.close()


async def test_triage_filters_snooze_and_bulk_actions(
    browser, base_url, make_staff, reader: asyncpg.Connection
) -> None:
    boss = await make_staff(Role.SUPERVISOR)
    helper = await Staff.open(base_url, boss.login)
    paying = await Client.open(base_url)
    await paying.send(type="topic", slug="payment")
    await paying.until("state", topic="payment")
    paying_id = (await paying.say("Не прошла оплата картой"))["conversation"]
    ordering = await Client.open(base_url)
    await ordering.send(type="topic", slug="orders")
    await ordering.until("state", topic="orders")
    ordering_id = (await ordering.say("Заказ не приехал"))["conversation"]
    # One waits for the client (pending), as the operator would set it.
    await helper.send(type="status", conversation=ordering_id, status="pending")

    console = await staff_page(browser, base_url, boss.login)
    await console.get_by_role("tab", name="Все").click()
    paying_item = console.locator(f'.conv-item[data-id="{paying_id}"]')
    ordering_item = console.locator(f'.conv-item[data-id="{ordering_id}"]')
    await expect(paying_item).to_have_count(1)
    await expect(paying_item.locator(".chip-waiting")).to_contain_text("ждёт")

    await console.get_by_text("Фильтры и порядок").click()
    await console.get_by_label("Направление", exact=True).select_option("payment")
    await expect(paying_item).to_have_count(1)
    await expect(ordering_item).to_have_count(0)
    await console.get_by_label("Направление", exact=True).select_option("")
    await console.get_by_label("Статус", exact=True).select_option("pending")
    await expect(ordering_item).to_have_count(1)
    await expect(paying_item).to_have_count(0)
    await console.get_by_label("Статус", exact=True).select_option("")
    await console.get_by_label("Ведёт", exact=True).select_option(
        "0"
    )  # nobody: both wait unassigned
    await expect(paying_item).to_have_count(1)
    await console.get_by_label("Ведёт", exact=True).select_option("")
    await console.get_by_label("Порядок", exact=True).select_option("waiting")
    await expect(paying_item).to_have_count(1)

    # Snooze: it leaves the list, is among the snoozed, is in the staff audit, and returns.
    await paying_item.click()
    await console.get_by_role("button", name="Отложить").click()
    await console.get_by_role("menuitem", name="На 1 час").click()
    await expect(paying_item).to_have_count(0)
    await expect(console.locator(".snoozed-note")).to_contain_text("Отложен до")
    audit = await reader.fetchrow(
        "SELECT actor_login, change FROM staff_audit WHERE entity = 'conversation'"
        " AND entity_key = $1 ORDER BY id DESC LIMIT 1",
        f"#{paying_id}",
    )
    assert audit is not None
    assert tuple(audit) == (boss.login, "отложен")
    await console.get_by_label("только отложенные").check()
    await expect(paying_item).to_have_count(1)
    await console.get_by_label("только отложенные").uncheck()
    await expect(paying_item).to_have_count(0)
    # Moving time: the hour has passed for this snooze (the job then brings it back).
    await reader.execute(
        "UPDATE conversation SET snoozed_until = now() - interval '1 second' WHERE id = $1",
        paying_id,
    )
    await expect(paying_item).to_have_count(1, timeout=15000)

    # Bulk: a supervisor resolves both at once.
    await console.get_by_role("button", name="Выбрать несколько").click()
    await paying_item.click()
    await ordering_item.click()
    await expect(console.locator(".bulk-count")).to_have_text("Выбрано: 2")
    await console.get_by_role("button", name="Решить", exact=True).click()
    await expect(console.locator(".toast", has_text="Готово: 2 из 2")).to_be_visible()
    statuses = await reader.fetch(
        "SELECT status FROM conversation WHERE id = ANY($1::bigint[])", [paying_id, ordering_id]
    )
    assert [row["status"] for row in statuses] == ["resolved", "resolved"]

    assert console.errors.errors == []
    for peer in (paying, ordering, helper):
        await peer.close()
    await console.context.close()


async def test_two_staff_see_each_other_on_one_conversation(browser, base_url, make_staff) -> None:
    first_user = await make_staff(Role.SUPERVISOR)
    second_user = await make_staff(Role.SUPERVISOR)
    client = await Client.open(base_url)
    ack = await client.say("Кто-нибудь здесь?")
    conversation = ack["conversation"]

    first = await staff_page(browser, base_url, first_user.login)
    second = await staff_page(browser, base_url, second_user.login)
    for page in (first, second):
        await page.get_by_role("tab", name="Все").click()
        await page.locator(f'.conv-item[data-id="{conversation}"]').click()
    await expect(first.locator(".colleagues")).to_have_text(
        f"Также открыт у: {second_user.display_name}"
    )
    await expect(second.locator(".colleagues")).to_have_text(
        f"Также открыт у: {first_user.display_name}"
    )

    await second.locator(".composer-input").press_sequentially("Сейчас отвечу")
    await expect(first.locator(".colleagues")).to_contain_text(
        f"{second_user.display_name} печатает ответ…"
    )

    await second.context.close()  # the socket closes: its presence goes with it
    await expect(first.locator(".colleagues")).to_be_hidden()
    assert first.errors.errors == []
    await resolve(base_url, first_user.login, [conversation])  # no chat left waiting
    await client.close()
    await first.context.close()


@dataclass
class SlaDesk:
    """A team of the test's own with targets set on «Цели SLA», a topic by hand (so a chat
    waits in the queue) and one client waiting there."""

    admin: Console
    slug: str
    client: Client
    conversation: int

    async def close(self, base_url: str, login: str) -> None:
        await resolve(base_url, login, [self.conversation])  # no chat left waiting
        await self.admin.archive_topic(self.slug)  # later clients see the installed topics
        await self.admin.close()
        await self.client.close()


async def sla_desk(base_url: str, text: str) -> SlaDesk:
    suffix = secrets.token_hex(3)
    admin = await admin_console(base_url)
    team = await admin.create_team(f"SLA {suffix}")
    slug = f"sla-{suffix}"
    await admin.create_topic(slug, f"SLA {suffix}", team, "manual")
    response = await admin.submit(
        "/admin/sla/",
        f"/admin/sla/team/{team}",
        first_response_minutes="15",
        resolution_minutes="120",
    )
    assert response.status_code == 303, admin.alert()
    client = await Client.open(base_url)
    await client.send(type="topic", slug=slug)
    await client.until("state", topic=slug)
    conversation = (await client.say(text))["conversation"]
    return SlaDesk(admin, slug, client, conversation)


async def move_back(reader: asyncpg.Connection, conversation: int, minutes: int) -> None:
    """Moving time: the conversation began and has waited ``minutes`` longer (its SLA clock
    starts at its «created» event), without waiting for a target to pass."""
    await reader.execute(
        "UPDATE conversation_event SET at = at - make_interval(mins => $2)"
        " WHERE conversation_id = $1",
        conversation,
        minutes,
    )
    await reader.execute(
        "UPDATE conversation SET created_at = created_at - make_interval(mins => $2),"
        " waiting_since = waiting_since - make_interval(mins => $2) WHERE id = $1",
        conversation,
        minutes,
    )


async def test_the_sla_timer_counts_down_turns_red_and_a_client_ends_a_snooze(
    browser, base_url, make_staff, reader: asyncpg.Connection
) -> None:
    boss = await make_staff(Role.SUPERVISOR)
    desk = await sla_desk(base_url, "Когда привезут заказ?")
    console = await staff_page(browser, base_url, boss.login)
    await console.get_by_role("tab", name="Все").click()
    item = console.locator(f'.conv-item[data-id="{desk.conversation}"]')
    timer = item.locator(".chip-sla")
    # The team works round the clock (no hours set): 15 plain minutes to the first answer.
    await expect(timer).to_have_text(re.compile(r"^SLA: первый ответ через 1[45] мин$"))
    await expect(timer).not_to_have_class(re.compile("breached"))

    await move_back(reader, desk.conversation, 20)
    await console.reload()
    await console.get_by_role("tab", name="Все").click()
    await expect(timer).to_have_text(re.compile(r"^SLA нарушен: первый ответ, [45] мин назад$"))
    await expect(timer).to_have_class(re.compile("breached"))
    # The monitor counts the same chat over SLA (one definition: reports.sla.Checker.state).
    live = await console.request.get(f"{base_url}/admin/monitor/live")
    assert f'data-conversation="{desk.conversation}"' in await live.text()

    # Snoozed, it leaves the list; the client's next message brings it back at once.
    await item.click()
    await console.get_by_role("button", name="Отложить").click()
    await console.get_by_role("menuitem", name="На 1 час").click()
    await expect(item).to_have_count(0)
    await desk.client.say("Ау, есть кто-нибудь?")
    await expect(item).to_have_count(1)
    await expect(item.locator(".conv-item-preview")).to_have_text("Ау, есть кто-нибудь?")
    assert (
        await reader.fetchval(
            "SELECT snoozed_until FROM conversation WHERE id = $1", desk.conversation
        )
        is None
    )

    assert console.errors.errors == []
    await desk.close(base_url, boss.login)
    await console.context.close()
