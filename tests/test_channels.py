"""MAX and VK end to end, against local stand-ins of their APIs (tests/standins/): a
messenger user writes, gets the consent offer, consents with the inline button, leaves a phone
when asked, talks to an operator on the real staff socket and is destroyed — with the
processing log checked at each step; a redelivered update is stored once; an outage of the
messenger delivers each queued message exactly once when it ends."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from typing import Any

import pytest

from okno.platform import database
from okno.platform.channels import polling
from okno.platform.channels.errors import RejectedError, TransientError
from okno.platform.channels.max_bot import MaxBot
from okno.platform.channels.schemas import Outgoing
from okno.platform.channels.vk_bot import VkBot
from okno.platform.selfservice import overview
from okno.platform.staff.roles import Role
from tests.admin_support import admin_console
from tests.channel_support import (
    connect_channel,
    eventually,
    identity,
    log_of,
    messages,
    wait_identity,
    wait_log,
)
from tests.conftest import staff_client
from tests.standins.common import Answer
from tests.standins.max_api import MaxApi
from tests.standins.vk_api import VkApi, error

PHONE = "+7 912 345-67-89"


@pytest.fixture
def max_api():
    api = MaxApi(f"max-token-{secrets.token_hex(8)}")
    yield api
    api.stop()


@pytest.fixture
def vk_api():
    api = VkApi(f"vk-token-{secrets.token_hex(8)}", group_id=200000000 + secrets.randbelow(10**6))
    yield api
    api.stop()


def max_buttons(message: dict[str, Any]) -> list[dict[str, str]]:
    return [
        button
        for attachment in message["body"]["attachments"]
        for row in attachment["payload"]["buttons"]
        for button in row
    ]


def vk_buttons(message: dict[str, Any]) -> list[dict[str, str]]:
    keyboard = message["keyboard"] or {"buttons": []}
    return [button["action"] for row in keyboard["buttons"] for button in row]


def actions(rows: list[dict[str, Any]]) -> list[tuple[str, tuple[str, ...]]]:
    return [(row["action"], tuple(row["fields"])) for row in rows]


async def all_sent(conversation: int) -> None:
    """Wait until every queued message of the conversation is ✓ (the messenger has it before
    okno commits its answer)."""
    for _ in range(150):
        async with database.acquire() as conn:
            states = await conn.fetch(
                "SELECT state FROM channel_outbound WHERE conversation_id = $1", conversation
            )
        if {row["state"] for row in states} == {"sent"}:
            return
        await asyncio.sleep(0.1)
    raise AssertionError([row["state"] for row in states])


async def destroy(base_url: str, make_staff: Any, subject: uuid.UUID) -> None:
    dpo = await staff_client(base_url, (await make_staff(Role.DPO)).login)
    destroyed = await dpo.post(
        f"/admin/dpo/subjects/{subject}/destroy",
        data={"confirm": "yes", "reason": "по требованию", "_csrf_token": dpo.csrf},
        timeout=60,  # destruction rewrites and verifies; slow on a loaded machine
    )
    await dpo.aclose()
    assert destroyed.status_code == 303, destroyed.text


async def test_a_max_user_consents_leaves_a_phone_talks_and_is_destroyed(
    base_url, supervisor, make_staff, max_api
) -> None:
    channel = await connect_channel(
        base_url,
        kind="max",
        name=f"MAX {secrets.token_hex(3)}",
        receive="poll",
        api_url=max_api.url,
        token=max_api.token,
    )
    user = 10**9 + secrets.randbelow(10**8)

    # The first message: a contact typed before consent is masked; the first answer carries
    # who carries the messages, the policy and consent links and the «Даю согласие» button.
    first = max_api.user_writes(user, f"Здравствуйте! Мой номер {PHONE}")
    offer = await eventually(lambda: [m for m in max_api.sent_to(user) if max_buttons(m)])
    text = offer[0]["body"]["text"]
    for part in ("MAX", "номер телефона", "/policy"):
        assert part in text, text
    assert [b["text"] for b in max_buttons(offer[0])] == ["Даю согласие", "Не сейчас"]
    found = await wait_identity(channel, user)
    conversation, subject = found["conversation"], found["subject_id"]
    stored = await messages(conversation)
    assert stored[0]["author_kind"] == "subject"
    assert PHONE not in stored[0]["body"]
    assert "912" not in stored[0]["body"]
    logged = actions(await log_of(subject))
    assert ("collection", ("messenger_id",)) in logged
    assert ("recording", ("message_text",)) in logged
    await wait_log(subject, lambda r: r["action"] == "provision" and "MAX" in (r["reason"] or ""))

    # MAX delivers the same update again: it is stored once.
    max_api.redeliver(first)
    max_api.user_writes(user, "Вы тут?")
    await supervisor.open_conversation(conversation)
    await supervisor.message(text="Вы тут?", wait=15)
    bodies = [m["body"] for m in await messages(conversation) if m["author_kind"] == "subject"]
    assert len(bodies) == 2, bodies

    # Consent with the inline button: proof names the channel; the callback is answered.
    consent = next(b for b in max_buttons(offer[0]) if b["text"] == "Даю согласие")
    max_api.user_presses(user, consent["payload"])
    await eventually(
        lambda: [m for m in max_api.sent_to(user) if "согласие сохранено" in m["body"]["text"]]
    )
    async with database.acquire() as conn:
        proof = await conn.fetchrow(
            "SELECT channel, control FROM consent_event WHERE subject_id = $1", subject
        )
    assert proof["channel"] == "max"
    assert proof["control"] == "button:Даю согласие"
    assert await eventually(lambda: max_api.answers)

    # The operator asks for the phone; the user writes it; it is saved and logged.
    await supervisor.send(type="request_field", conversation=conversation, field="phone")
    await eventually(
        lambda: [m for m in max_api.sent_to(user) if "Оператор просит указать" in m["body"]["text"]]
    )
    max_api.user_writes(user, PHONE)
    await wait_log(subject, lambda r: r["action"] == "collection" and r["fields"] == ["phone"])
    async with database.acquire() as conn:
        phone = await conn.fetchval(
            "SELECT value FROM subject_field WHERE subject_id = $1 AND field = 'phone'", subject
        )
    assert phone
    assert phone.endswith("9123456789")

    # The operator answers on the staff socket; the user gets it once, ✓ in the queue.
    await supervisor.say(conversation, "Здравствуйте, чем помочь?")
    await eventually(
        lambda: [
            m for m in max_api.sent_to(user) if m["body"]["text"] == "Здравствуйте, чем помочь?"
        ]
    )
    await all_sent(conversation)
    texts = [m["body"]["text"] for m in max_api.sent_to(user)]
    assert len(texts) == len(set(texts)), texts
    # «Кто обрабатывал» names the provision to MAX's operator, with the country.
    lines = await overview.history(subject)
    handed = [line for line in lines if line.what.startswith("сообщение передано оператору")]
    assert handed
    assert "ООО «Коммуникационная платформа»" in (handed[0].reason or "")
    assert "Россия" in (handed[0].reason or "")

    await destroy(base_url, make_staff, subject)
    async with database.acquire() as conn:
        left = await conn.fetchval(
            "SELECT count(*) FROM channel_identity WHERE channel_id = $1", channel
        )
        queued = await conn.fetchval(
            "SELECT count(*) FROM channel_outbound WHERE conversation_id = $1", conversation
        )
    assert (left, queued) == (0, 0)
    assert any(r["action"] == "destruction" for r in await log_of(subject))


async def test_one_worker_at_a_time_polls_a_channel(base_url, db, max_api) -> None:
    """The session's server and two more workers (pollers in this process, each its own
    lease owner) compete for the channel: one long poll at a time, each update stored once."""
    channel = await connect_channel(
        base_url,
        kind="max",
        name=f"MAX poll {secrets.token_hex(3)}",
        receive="poll",
        api_url=max_api.url,
        token=max_api.token,
    )
    stop = asyncio.Event()
    workers = [asyncio.create_task(polling.poller(stop, f"test-{n}")) for n in range(2)]
    user = 10**9 + secrets.randbelow(10**8)
    try:
        for n in range(3):
            max_api.user_writes(user, f"Сообщение {n}")
            await asyncio.sleep(0.5)  # updates spread over several polls
        found = await wait_identity(channel, user)
        for _ in range(150):
            stored = [
                m["body"]
                for m in await messages(found["conversation"])
                if m["author_kind"] == "subject"
            ]
            if len(stored) == 3:
                break
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await asyncio.gather(*workers)
    assert stored == ["Сообщение 0", "Сообщение 1", "Сообщение 2"]
    assert max_api.most_polling == 1


async def test_a_max_webhook_takes_only_calls_with_the_secret_and_each_update_once(
    base_url, max_api
) -> None:
    secret = secrets.token_hex(12)
    channel = await connect_channel(
        base_url,
        kind="max",
        name=f"MAX hook {secrets.token_hex(3)}",
        receive="webhook",
        api_url=max_api.url,
        token=max_api.token,
        webhook_secret=secret,
    )
    hook = f"{base_url}/hooks/max/{channel}"
    user = 10**9 + secrets.randbelow(10**8)
    update = max_api.user_writes(user, "Через вебхук")
    assert max_api.post_webhook(hook, "wrong-secret", update) == 403
    assert await identity(channel, user) is None  # nothing was read from a refused call
    assert max_api.post_webhook(hook, secret, update) == 200
    assert max_api.post_webhook(hook, secret, update) == 200  # delivered again
    found = await wait_identity(channel, user)
    subject_lines = [
        m for m in await messages(found["conversation"]) if m["author_kind"] == "subject"
    ]
    assert [m["body"] for m in subject_lines] == ["Через вебхук"]
    await eventually(lambda: [m for m in max_api.sent_to(user) if max_buttons(m)])

    # The admin disables the channel on its page: its webhook no longer takes anything.
    admin = await admin_console(base_url)
    try:
        response = await admin.submit("/admin/channels", f"/admin/channels/{channel}/disable")
        assert response.status_code == 303, admin.alert()
        assert "(отключён)" in admin.page
    finally:
        await admin.close()
    later = max_api.user_writes(user, "После отключения")
    assert max_api.post_webhook(hook, secret, later) == 404


async def test_a_vk_user_over_the_callback_api_and_an_outage_delivers_each_message_once(
    base_url, supervisor, make_staff, vk_api
) -> None:
    secret = secrets.token_hex(12)
    channel = await connect_channel(
        base_url,
        kind="vk",
        name=f"VK {secrets.token_hex(3)}",
        receive="webhook",
        api_url=vk_api.url,
        token=vk_api.token,
        group_id=str(vk_api.group_id),
        webhook_secret=secret,
        confirmation="a1b2c3d4",
    )
    hook = f"{base_url}/hooks/vk/{channel}"
    confirm = {"type": "confirmation", "group_id": vk_api.group_id}
    assert vk_api.post_callback(hook, confirm, None) == (200, "a1b2c3d4")
    user = 10**8 + secrets.randbelow(10**7)

    event = vk_api.user_writes(user, "Добрый день, вопрос по заказу")
    assert vk_api.post_callback(hook, event, "wrong-secret")[0] == 403
    assert vk_api.post_callback(hook, event, secret) == (200, "ok")
    assert vk_api.post_callback(hook, event, secret) == (200, "ok")  # VK repeats an event
    found = await wait_identity(channel, user)
    conversation, subject = found["conversation"], found["subject_id"]
    assert [m["author_kind"] for m in await messages(conversation)].count("subject") == 1
    offer = await eventually(lambda: [m for m in vk_api.sent_to(user) if vk_buttons(m)])
    assert "ВКонтакте" in offer[0]["message"]
    consent = vk_buttons(offer[0])[0]
    assert consent["label"] == "Даю согласие"
    press = vk_api.user_presses(user, consent["payload"])
    assert vk_api.post_callback(hook, press, secret) == (200, "ok")
    await eventually(
        lambda: [m for m in vk_api.sent_to(user) if "согласие сохранено" in m["message"]]
    )
    assert vk_api.event_answers
    assert vk_api.event_answers[0]["user_id"] == str(user)

    # An outage: an internal error, a rate limit, then a send VK acted on but whose answer
    # was lost. okno retries with the same random_id, so VK shows each message once.
    vk_api.faults = [
        error(10, "Internal server error"),
        error(6, "Too many requests per second"),
        Answer(200, None, drop=True),
    ]
    await supervisor.open_conversation(conversation)
    for text in ("Первое после сбоя", "Второе после сбоя"):
        await supervisor.say(conversation, text)
    await eventually(
        lambda: [m for m in vk_api.sent_to(user) if m["message"] == "Второе после сбоя"], wait=30
    )
    texts = [m["message"] for m in vk_api.sent_to(user)]
    assert texts.count("Первое после сбоя") == 1
    assert texts.count("Второе после сбоя") == 1
    assert texts.index("Первое после сбоя") < texts.index("Второе после сбоя")
    async with database.acquire() as conn:
        health = await conn.fetchrow(
            "SELECT last_error, last_update_at FROM channel WHERE id = $1", channel
        )
    assert health["last_update_at"] is not None
    assert "VK" in health["last_error"]
    # The user blocks the community: the next message fails for good, and the operator sees
    # why next to it; the ones before are ✓.
    vk_api.faults = [error(901, "Can't send messages for users without permission")]
    await supervisor.say(conversation, "Вы здесь?")
    deliveries: list[dict[str, Any]] = []
    for _ in range(150):
        answer = await supervisor.http_client.get(
            f"/api/staff/conversations/{conversation}/deliveries",
            headers={"accept": "application/json"},
        )
        deliveries = answer.json()
        if deliveries and deliveries[-1]["state"] == "failed":
            break
        await asyncio.sleep(0.1)
    assert deliveries[-1]["mark"] == "не доставлено"
    assert "не разрешил" in deliveries[-1]["reason"]
    assert {d["mark"] for d in deliveries[:-1]} == {"✓"}
    assert "Вы здесь?" not in [m["message"] for m in vk_api.sent_to(user)]
    provided = [r for r in await log_of(subject) if r["action"] == "provision"]
    assert provided
    assert all("ВКонтакте" in r["reason"] for r in provided)

    await destroy(base_url, make_staff, subject)
    async with database.acquire() as conn:
        left = await conn.fetchval(
            "SELECT count(*) FROM channel_identity WHERE channel_id = $1", channel
        )
    assert left == 0


async def test_the_adapters_read_the_apis_errors_and_time_outs(max_api, vk_api) -> None:
    user = 4242
    max_bot = MaxBot(max_api.url, {"token": max_api.token})
    with pytest.raises(RejectedError, match=r"chat\.denied"):  # the bot writes only after the user
        await max_bot.send(str(user), Outgoing("Здравствуйте"), key=1)
    max_api.user_writes(user, "Привет")
    updates, marker = await max_bot.poll("")
    assert [u.text for u in updates] == ["Привет"]
    assert marker == "1"
    assert (await max_bot.poll(marker))[0] == []
    max_api.faults = [Answer(429, {"code": "too.many.requests", "message": "Too many requests"})]
    with pytest.raises(TransientError, match="слишком много"):
        await max_bot.send(str(user), Outgoing("Здравствуйте"), key=1)
    max_api.faults = [Answer(200, {}, delay=1.0)]
    max_bot.call_seconds = 0.2
    with pytest.raises(TransientError, match="не ответил вовремя"):
        await max_bot.send(str(user), Outgoing("Здравствуйте"), key=1)
    with pytest.raises(TransientError, match="токен"):
        await MaxBot(max_api.url, {"token": "wrong"}).send(str(user), Outgoing("x"), key=1)

    vk_bot = VkBot(vk_api.url, {"token": vk_api.token, "group_id": str(vk_api.group_id)})
    with pytest.raises(RejectedError, match="не разрешил"):
        await vk_bot.send(str(user), Outgoing("Здравствуйте"), key=7)
    vk_api.user_writes(user, "Привет")
    updates, state = await vk_bot.poll("")
    assert [u.text for u in updates] == ["Привет"]
    assert json.loads(state)["ts"] == "1"
    vk_api.key = "rotated"  # the long-poll key expired: failed 2, a new server is asked for
    assert (await vk_bot.poll(state))[0] == []
    first = await vk_bot.send(str(user), Outgoing("Один раз"), key=7)
    again = await vk_bot.send(str(user), Outgoing("Один раз"), key=7)
    assert first == again
    assert [m["message"] for m in vk_api.sent_to(user)] == ["Один раз"]
    vk_api.faults = [error(9, "Flood control")]
    with pytest.raises(TransientError, match="flood"):
        await vk_bot.send(str(user), Outgoing("x"), key=8)
    with pytest.raises(TransientError, match="ключ доступа"):
        await VkBot(vk_api.url, {"token": "wrong"}).send(str(user), Outgoing("x"), key=9)
