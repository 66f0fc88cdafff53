"""Mailings reach only subjects with an advertising consent for the channel, once each."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import re
import secrets
import subprocess
import sys
import urllib.parse
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiosmtpd.controller import Controller

from okno.platform import database
from okno.platform.consent import service as consent
from okno.platform.mailings import sending
from okno.platform.mailings import service as mailings
from okno.platform.staff.roles import Role
from tests.chat_support import Client, Staff, subject_of
from tests.conftest import (
    ADMIN_PASSWORD,
    STAFF_PASSWORD,
    FreshDatabase,
    ServerProcess,
    csrf_from,
    free_port,
    staff_client,
)
from tests.test_consent import offer_and_accept
from tests.test_portal import THANKS, fill_field, give_consent, make_person, portal_from_chat


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


async def send_now(http, mailing_id: int) -> dict[str, int]:
    """«Отправить» with no time on the mailing's page; its report once everything is sent."""
    await http.post(f"/admin/mailings/{mailing_id}/schedule", data={"_csrf_token": http.csrf})
    return await wait_until_sent(mailing_id)


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
    await send_now(http, first)
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
    report = await send_now(http, second)
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
    interrupted = asyncio.create_task(sending.run_due())
    await asyncio.sleep(0.05)
    interrupted.cancel()
    await asyncio.gather(interrupted, return_exceptions=True)
    await asyncio.gather(sending.run_due(), sending.run_due())
    report = await wait_until_sent(mailing_id)
    assert report["delivered"] == 4
    for client, conversation in clients:
        assert await mailing_messages(conversation) == ["Скидка для четверых"]
        await client.close()
    await http.aclose()


# ---------------------------------------------------------------- e-mail, for real


class Mailbox:
    """A real SMTP server (aiosmtpd) on a free port: keeps what it accepts, refuses some."""

    def __init__(self) -> None:
        self.letters: list[EmailMessage] = []
        self.refused: set[str] = set()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:  # noqa: N802
        if address in self.refused:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        letter = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.letters.append(letter)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [letter for letter in self.letters if letter["To"] == address]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.controller.start()
    yield box
    box.controller.stop()


@pytest.fixture
def mail_server(fresh_database: FreshDatabase, mailbox: Mailbox) -> Iterator[ServerProcess]:
    """okno with SMTP, alone on its own database (so only its sender handles its mailings)."""
    process = ServerProcess(
        fresh_database.url,
        OKNO_MIGRATION_DATABASE_URL=fresh_database.owner_url,
        OKNO_SMTP_HOST="127.0.0.1",
        OKNO_SMTP_PORT=str(mailbox.port),
        OKNO_SMTP_TLS="none",
    )
    process.database = fresh_database  # type: ignore[attr-defined]
    yield process
    process.stop()


def okno_cli(fresh: FreshDatabase, *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "okno.platform.cli", *args],
        env={**os.environ, "DATABASE_URL": fresh.url, "OKNO_PASSWORD": STAFF_PASSWORD},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


async def email_subscriber(base_url: str, supervisor: Staff, address: str) -> Client:
    """A client who consents to processing, gives an e-mail, and accepts letters, in the chat."""
    client = await Client.open(base_url)
    conversation = (await client.say("Здравствуйте"))["conversation"]
    await supervisor.open_conversation(conversation)
    await give_consent(client, supervisor, conversation, "support")
    await fill_field(client, supervisor, conversation, "email", address)
    await supervisor.send(
        type="offer_consent", conversation=conversation, purpose="advertising-email"
    )
    offer = await client.message(author={"kind": "bot", "name": None})
    assert [b["label"] for b in offer["buttons"]] == ["Да, присылайте на почту", "Нет, спасибо"]
    await client.send(type="button", seq=offer["seq"], button=offer["buttons"][0]["id"])
    await client.message(text=THANKS)
    client.conversation = conversation  # type: ignore[attr-defined]
    return client


async def send_email_mailing(http, text: str) -> int:
    response = await http.post(
        "/admin/mailings/",
        files={
            "title": (None, "Акция недели"),
            "body": (None, text),
            "email": (None, "on"),
            "_csrf_token": (None, http.csrf),
        },
    )
    assert response.status_code == 303, response.text
    mailing_id = int(response.headers["location"].rsplit("/", 1)[1])
    scheduled = await http.post(
        f"/admin/mailings/{mailing_id}/schedule", data={"_csrf_token": http.csrf}
    )
    assert scheduled.status_code == 303
    return mailing_id


async def until_sent(conn: asyncpg.Connection, mailing_id: int, wait: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + wait
    while asyncio.get_running_loop().time() < deadline:
        if await conn.fetchval("SELECT status FROM mailing WHERE id = $1", mailing_id) == "sent":
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"mailing {mailing_id} was not sent")


async def test_a_letter_really_arrives_and_its_unsubscribe_link_works(mail_server, mailbox) -> None:
    fresh = mail_server.database
    okno_cli(fresh, "user", "add", "sup", "--role", "supervisor")
    supervisor = await Staff.open(mail_server.url, "sup")
    address = f"client.{secrets.token_hex(4)}@example.ru"
    client = await email_subscriber(mail_server.url, supervisor, address)
    admin = await staff_client(mail_server.url, "admin", ADMIN_PASSWORD)
    conn = await asyncpg.connect(fresh.url)
    try:
        first = await send_email_mailing(admin, "Скидка 30% на всё до воскресенья")
        await until_sent(conn, first)
        [letter] = mailbox.to(address)
        assert letter["Subject"] == "Акция недели"
        body = letter.get_content()
        assert "Скидка 30% на всё до воскресенья" in body
        link = re.search(r"Отписаться от рекламных писем: (http\S+)", body)
        assert link, body
        assert letter["List-Unsubscribe"] == f"<{link[1]}>"
        subject = uuid.UUID(
            await conn.fetchval(
                "SELECT subject_id::text FROM conversation WHERE id = $1", client.conversation
            )
        )
        delivery = await conn.fetchrow(
            "SELECT status, reason FROM mailing_delivery WHERE mailing_id = $1 AND channel = 'email'",
            first,
        )
        assert (delivery["status"], delivery["reason"]) == ("delivered", None)
        used = await conn.fetch(
            "SELECT action, fields, purpose, legal_basis FROM processing_log"
            " WHERE subject_id = $1 AND purpose = 'advertising-email'",
            subject,
        )
        assert [(r["action"], r["fields"]) for r in used] == [("use", ["email"])]
        assert used[0]["legal_basis"].startswith("consent:")
        # The link, as a mail client opens it: a page that asks, then the button withdraws.
        path = urllib.parse.urlsplit(link[1]).path
        async with httpx.AsyncClient(base_url=mail_server.url) as browser:
            page = await browser.get(path)
            assert page.status_code == 200
            assert "Отписаться от рекламных писем?" in page.text
            assert address not in page.text
            done = await browser.post(path, data={"_csrf_token": csrf_from(page.text)})
            assert done.status_code == 200
            assert "Вы отписались" in done.text
            forged = await browser.get(path[:-3] + "AAA")
            assert forged.status_code == 404
        withdrawn = await conn.fetchrow(
            "SELECT channel, control FROM consent_event WHERE subject_id = $1"
            " AND purpose_code = 'advertising-email' AND kind = 'withdrawn'",
            subject,
        )
        assert (withdrawn["channel"], withdrawn["control"]) == (
            "portal",
            "link:Отписаться (письмо)",
        )
        assert await conn.fetchval(
            "SELECT unsubscribed_at IS NOT NULL FROM mailing_delivery"
            " WHERE mailing_id = $1 AND channel = 'email'",
            first,
        )
        second = await send_email_mailing(admin, "Скидка снова")
        await until_sent(conn, second)
        assert len(mailbox.to(address)) == 1
        assert (
            await conn.fetchval(
                "SELECT reason FROM mailing_delivery WHERE mailing_id = $1 AND channel = 'email'",
                second,
            )
            == "нет действующего согласия"
        )
    finally:
        await conn.close()
        await admin.aclose()
        await supervisor.close()
        await client.close()


async def test_a_letter_the_mail_server_refuses_is_failed_with_its_reason_and_not_logged(
    mail_server, mailbox
) -> None:
    fresh = mail_server.database
    okno_cli(fresh, "user", "add", "sup", "--role", "supervisor")
    supervisor = await Staff.open(mail_server.url, "sup")
    accepted = f"client.{secrets.token_hex(4)}@example.ru"
    refused = f"gone.{secrets.token_hex(4)}@example.ru"
    mailbox.refused.add(refused)
    clients = [await email_subscriber(mail_server.url, supervisor, a) for a in (accepted, refused)]
    admin = await staff_client(mail_server.url, "admin", ADMIN_PASSWORD)
    conn = await asyncpg.connect(fresh.url)
    try:
        mailing_id = await send_email_mailing(admin, "Скидка для двоих")
        await until_sent(conn, mailing_id)
        assert len(mailbox.to(accepted)) == 1
        assert mailbox.to(refused) == []
        rows = await conn.fetch(
            "SELECT c.id AS conversation, d.status, d.reason,"
            " (SELECT count(*) FROM processing_log l WHERE l.subject_id = d.subject_id"
            "  AND l.purpose = 'advertising-email' AND l.action = 'use') AS used"
            " FROM mailing_delivery d JOIN conversation c ON c.subject_id = d.subject_id"
            " WHERE d.mailing_id = $1 AND d.channel = 'email'",
            mailing_id,
        )
        outcome = {r["conversation"]: (r["status"], r["reason"], r["used"]) for r in rows}
        assert outcome == {
            clients[0].conversation: ("delivered", None, 1),
            clients[1].conversation: (
                "failed",
                "почтовый сервер отклонил адрес получателя (код 550)",
                0,
            ),
        }
        page = (await admin.get(f"/admin/mailings/{mailing_id}")).text
        assert "<th>Не доставлено (ошибка отправки)</th><td>1</td>" in page
        assert "почтовый сервер отклонил адрес получателя (код 550)" in page
        assert refused not in page
    finally:
        await conn.close()
        await admin.aclose()
        await supervisor.close()
        for client in clients:
            await client.close()


async def test_a_client_gives_and_withdraws_the_email_advertising_consent_in_my_data(
    base_url, supervisor
) -> None:
    person = await make_person(base_url, supervisor)
    http = await portal_from_chat(base_url, person)
    page = (await http.get("/me/consents")).text
    assert 'data-purpose="advertising-email"' in page
    assert 'name="agree" required>' in page  # never pre-checked
    unticked = await http.post(
        "/me/consents/give", data={"_csrf_token": http.csrf, "purpose": "advertising-email"}
    )
    assert unticked.status_code == 400
    assert "отметьте" in unticked.text
    subject = uuid.UUID(person.subject_id)
    async with database.acquire() as conn:
        assert await consent.active(conn, subject, "advertising-email") is None
    given = await http.post(
        "/me/consents/give",
        data={"_csrf_token": http.csrf, "purpose": "advertising-email", "agree": "on"},
    )
    assert given.status_code == 303
    async with database.acquire() as conn:
        active = await consent.active(conn, subject, "advertising-email")
        proof = await conn.fetchrow(
            "SELECT channel, control, ip FROM consent_event WHERE id = $1", active["id"]
        )
    assert (proof["channel"], proof["control"]) == ("portal", "checkbox+button:Дать согласие")
    assert proof["ip"] is not None
    page = (await http.get("/me/consents")).text
    assert 'data-purpose="advertising-email"' not in page
    withdrawn = await http.post(
        f"/me/consents/{active['id']}/withdraw", data={"_csrf_token": http.csrf}
    )
    assert withdrawn.status_code == 303
    async with database.acquire() as conn:
        assert await consent.active(conn, subject, "advertising-email") is None
    await http.aclose()
    await person.client.close()


async def test_without_a_mail_server_the_letter_goes_to_the_outbox_and_is_logged_so(
    base_url, supervisor, make_staff
) -> None:
    address = f"client.{secrets.token_hex(4)}@example.ru"
    client = await email_subscriber(base_url, supervisor, address)
    subject = uuid.UUID(await subject_of(client.conversation))
    admin = await make_staff(Role.ADMIN)
    http = await staff_client(base_url, admin.login)
    # Only this client is in the audience: the mailing goes to one tag.
    tag = f"t{uuid.uuid4().hex[:8]}"
    tagged = await supervisor.http_client.post(
        f"/api/staff/conversations/{client.conversation}/tags",
        json={"tags": [tag]},
        headers={"x-csrf-token": supervisor.http_client.csrf},
    )
    assert tagged.status_code == 201
    response = await http.post(
        "/admin/mailings/",
        files={
            "title": (None, "Акция"),
            "body": (None, "Скидка в письме"),
            "tags": (None, tag),
            "email": (None, "on"),
            "_csrf_token": (None, http.csrf),
        },
    )
    mailing_id = int(response.headers["location"].rsplit("/", 1)[1])
    await send_now(http, mailing_id)
    async with database.acquire() as conn:
        path = await conn.fetchval(
            "SELECT path FROM mail_outbox WHERE subject_id = $1 ORDER BY created_at DESC LIMIT 1",
            subject,
        )
        logged = await conn.fetch(
            "SELECT action FROM processing_log WHERE subject_id = $1"
            " AND purpose = 'advertising-email' ORDER BY id",
            subject,
        )
    raw = await asyncio.to_thread(Path(path).read_bytes)
    letter = email.message_from_bytes(raw, policy=email.policy.default)
    assert "Скидка в письме" in letter.get_content()
    assert "/unsubscribe/" in letter.get_content()
    assert [r["action"] for r in logged] == ["use", "recording", "storage"]
    await http.aclose()
    await client.close()
