"""Mailings reach only subjects with an advertising consent for the channel, once each."""

from __future__ import annotations

import asyncio
import re
import uuid

from okno.platform import database
from okno.platform.mailings import service as mailings
from okno.platform.staff.roles import Role
from tests.chat_support import Client, Staff, subject_of
from tests.conftest import staff_client
from tests.test_consent import offer_and_accept


async def new_client(
    base_url: str, supervisor: Staff, tag: str, *, advertising: bool
) -> tuple[Client, int]:
    client = await Client.open(base_url)
    ack = await client.say("Здравствуйте")
    conversation = ack["conversation"]
    await supervisor.open_conversation(conversation)
    response = await supervisor.http_client.post(
        f"/api/staff/conversations/{conversation}/tags",
        json={"tags": [tag]},
        headers={"x-csrf-token": supervisor.http_client.csrf},
    )
    assert response.status_code == 201, response.text
    if advertising:
        await offer_and_accept(client, supervisor, conversation, purpose="advertising-chat")
    return client, conversation


async def compose(http, tag: str, text: str) -> int:
    response = await http.post(
        "/admin/mailings/",
        files={
            "title": (None, f"Акция {tag}"),
            "body": (None, text),
            "tags": (None, tag),
            "_csrf_token": (None, http.csrf),
        },
    )
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


async def wait_until_sent(mailing_id: int, wait: float = 15) -> dict[str, int]:
    deadline = asyncio.get_running_loop().time() + wait
    while asyncio.get_running_loop().time() < deadline:
        async with database.acquire() as conn:
            status = await conn.fetchval("SELECT status FROM mailing WHERE id = $1", mailing_id)
        if status == "sent":
            return await mailings.report(mailing_id)
        await asyncio.sleep(0.2)
    raise TimeoutError(f"mailing {mailing_id} is {status}")


async def mailing_messages(conversation: int) -> list[str]:
    async with database.acquire() as conn:
        rows = await conn.fetch(
            "SELECT body FROM message WHERE conversation_id = $1 AND author_kind = 'bot'"
            " AND body LIKE 'Скидка%' ORDER BY seq",
            conversation,
        )
    return [r["body"] for r in rows]


async def test_only_subjects_with_advertising_consent_receive_it_and_the_preview_says_why(
    base_url, supervisor, make_staff
) -> None:
    tag = f"t{uuid.uuid4().hex[:8]}"
    agreed, agreed_conversation = await new_client(base_url, supervisor, tag, advertising=True)
    declined, declined_conversation = await new_client(base_url, supervisor, tag, advertising=False)
    admin = await make_staff(Role.ADMIN)
    http = await staff_client(base_url, admin.login)
    mailing_id = await compose(http, tag, "Скидка 20% до пятницы")
    page = (await http.get(f"/admin/mailings/{mailing_id}")).text
    assert re.search(r"Подходит под условия: <strong>2</strong>", page)
    assert re.search(r"<td>чат</td><td><strong>1</strong></td><td>1</td>", page)
    assert (
        await http.post(f"/admin/mailings/{mailing_id}/schedule", data={"_csrf_token": http.csrf})
    ).status_code == 303
    report = await wait_until_sent(mailing_id)
    assert (report["delivered"], report["skipped"]) == (1, 1)
    received = await agreed.message(text="Скидка 20% до пятницы")
    assert received["buttons"] == [{"id": f"unsubscribe:{mailing_id}", "label": "Отписаться"}]
    assert await mailing_messages(declined_conversation) == []
    async with database.acquire() as conn:
        used = await conn.fetch(
            "SELECT purpose, legal_basis FROM processing_log WHERE subject_id = $1 AND action = 'use'",
            uuid.UUID(await subject_of(agreed_conversation)),
        )
    assert [r["purpose"] for r in used] == ["advertising-chat"]
    assert used[0]["legal_basis"].startswith("consent:")
    await http.aclose()
    await agreed.close()
    await declined.close()


async def test_unsubscribe_is_immediate_and_no_later_mailing_reaches_them(
    base_url, supervisor, make_staff
) -> None:
    tag = f"t{uuid.uuid4().hex[:8]}"
    client, conversation = await new_client(base_url, supervisor, tag, advertising=True)
    admin = await make_staff(Role.SUPERVISOR)
    http = await staff_client(base_url, admin.login)
    first = await compose(http, tag, "Скидка на всё")
    await http.post(f"/admin/mailings/{first}/schedule", data={"_csrf_token": http.csrf})
    await wait_until_sent(first)
    offer = await client.message(text="Скидка на всё")
    await client.send(type="button", seq=offer["seq"], button=f"unsubscribe:{first}")
    await client.message(
        text="Вы отписались от рекламных сообщений. Ответы на ваши вопросы это не затрагивает."
    )
    subject = uuid.UUID(await subject_of(conversation))
    async with database.acquire() as conn:
        withdrawn = await conn.fetchrow(
            "SELECT control, channel FROM consent_event WHERE subject_id = $1 AND kind = 'withdrawn'",
            subject,
        )
    assert (withdrawn["control"], withdrawn["channel"]) == ("button:Отписаться", "chat")
    assert (await mailings.report(first))["unsubscribed"] == 1
    second = await compose(http, tag, "Скидка снова")
    await http.post(f"/admin/mailings/{second}/schedule", data={"_csrf_token": http.csrf})
    report = await wait_until_sent(second)
    assert (report["delivered"], report["skipped"]) == (0, 1)
    assert "Скидка снова" not in await mailing_messages(conversation)
    await http.aclose()
    await client.close()


async def test_consent_withdrawn_after_scheduling_is_honoured(
    base_url, supervisor, make_staff
) -> None:
    tag = f"t{uuid.uuid4().hex[:8]}"
    client, conversation = await new_client(base_url, supervisor, tag, advertising=True)
    admin = await make_staff(Role.ADMIN)
    http = await staff_client(base_url, admin.login)
    mailing_id = await compose(http, tag, "Скидка запланированная")
    await http.post(
        f"/admin/mailings/{mailing_id}/schedule",
        data={"_csrf_token": http.csrf, "send_at": "2999-01-01T10:00"},
    )
    subject = uuid.UUID(await subject_of(conversation))
    from okno.platform.consent import service as consent

    async with database.transaction():
        conn = database.connection()
        given = await consent.active(conn, subject, "advertising-chat")
        await consent.withdraw(
            conn, subject, given["id"], consent.Proof(channel="portal", control="test:отзыв")
        )
    async with database.acquire() as conn:
        # Moving time: the mailing's scheduled moment arrives now.
        await conn.execute("UPDATE mailing SET scheduled_at = now() WHERE id = $1", mailing_id)
    report = await wait_until_sent(mailing_id)
    assert (report["delivered"], report["skipped"]) == (0, 1)
    assert await mailing_messages(conversation) == []
    await http.aclose()
    await client.close()


async def test_an_interrupted_mailing_resumes_without_sending_twice(
    base_url, supervisor, make_staff
) -> None:
    tag = f"t{uuid.uuid4().hex[:8]}"
    clients = [await new_client(base_url, supervisor, tag, advertising=True) for _ in range(4)]
    admin = await make_staff(Role.ADMIN)
    http = await staff_client(base_url, admin.login)
    mailing_id = await compose(http, tag, "Скидка для четверых")
    await http.post(f"/admin/mailings/{mailing_id}/schedule", data={"_csrf_token": http.csrf})
    # Senders in this process race the server's own sender; one is cut off mid-run (as a
    # killed process would be: its open transaction never commits), the others finish.
    interrupted = asyncio.create_task(mailings.run_due())
    await asyncio.sleep(0.05)
    interrupted.cancel()
    await asyncio.gather(interrupted, return_exceptions=True)
    await asyncio.gather(mailings.run_due(), mailings.run_due())
    report = await wait_until_sent(mailing_id)
    assert report["delivered"] == 4
    for client, conversation in clients:
        assert await mailing_messages(conversation) == ["Скидка для четверых"]
        await client.close()
    await http.aclose()
