"""Consent before personal data: documents, the in-chat flow, masking, and proof."""

from __future__ import annotations

import csv
import hashlib
import html
import io
import re
import uuid
from collections.abc import Callable

import asyncpg
import httpx
import pytest

from okno.platform import database
from okno.platform.consent import documents
from okno.platform.staff.roles import Role
from tests.admin_support import admin_console
from tests.chat_support import Client, Staff, log_rows, subject_of
from tests.conftest import csrf_from, staff_client


@pytest.fixture
async def chat(base_url, supervisor):
    """A client who has written once, and the operator with the conversation open."""
    client = await Client.open(base_url)
    ack = await client.say("Здравствуйте")
    await supervisor.open_conversation(ack["conversation"])
    yield client, ack["conversation"]
    await client.close()


async def offer_and_accept(
    client: Client, supervisor: Staff, conversation: int, purpose: str = "support"
) -> dict:
    await supervisor.send(type="offer_consent", conversation=conversation, purpose=purpose)
    try:
        offer = await client.message(author={"kind": "bot", "name": None})
    except TimeoutError:
        raise AssertionError((client.frames[-4:], supervisor.frames[-4:])) from None
    # A new offer retires an earlier unanswered one (the bot's own, after a masked phone), and
    # that one may be what was read first: answer the newest offer still open.
    latest = {offer["seq"]: offer}
    for frame in await client.quiet(0.5):
        if frame["type"] == "message" and frame["message"]["author"]["kind"] == "bot":
            latest[frame["message"]["seq"]] = frame["message"]
    offer = max((m for m in latest.values() if m["buttons"]), key=lambda m: m["seq"])
    assert offer["buttons"], offer
    await client.send(type="button", seq=offer["seq"], button=offer["buttons"][0]["id"])
    try:
        return await client.message(
            text="Спасибо, согласие сохранено. Отозвать его можно в любой момент в разделе «Мои данные»."
        )
    except TimeoutError:
        raise AssertionError(client.frames[-6:]) from None


async def test_a_published_version_cannot_be_changed_and_its_hash_is_stable(base_url, db) -> None:
    policy = await documents.current("policy")
    assert policy is not None
    assert policy.sha256 == hashlib.sha256(policy.rendered.encode()).hexdigest()
    assert (
        documents.digest(
            documents.render(policy.kind, policy.title, policy.version, policy.contents)
        )
        == policy.sha256
    )
    async with database.acquire() as conn:
        for statement in (
            "UPDATE consent_document_version SET body = 'изменено' WHERE document_id = $1",
            "DELETE FROM consent_document_version WHERE document_id = $1",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="cannot be changed"):
                await conn.execute(statement, policy.document_id)
    async with httpx.AsyncClient() as http:
        page = (await http.get(f"{base_url}{policy.stable_url}")).text
    assert policy.sha256 in page


async def test_a_new_version_leaves_earlier_consents_pointing_at_theirs(
    base_url, chat, supervisor, make_staff
) -> None:
    client, conversation = chat
    await offer_and_accept(client, supervisor, conversation)
    subject = uuid.UUID(await subject_of(conversation))
    before = await documents.current("processing-support")
    dpo = await make_staff(Role.DPO)
    http = await staff_client(base_url, dpo.login)
    values = {name: getattr(before.contents, name) for name in documents.Contents.__struct_fields__}
    values["term_text"] = "2 года с момента дачи согласия или до его отзыва."
    response = await http.post(
        "/admin/consent/documents/processing-support", data={**values, "_csrf_token": http.csrf}
    )
    assert response.status_code == 303
    after = await documents.current("processing-support")
    assert after.version == before.version + 1
    assert after.sha256 != before.sha256
    unchanged = await documents.get("processing-support", before.version)
    assert (unchanged.rendered, unchanged.sha256) == (before.rendered, before.sha256)
    async with database.acquire() as conn:
        event = await conn.fetchrow(
            "SELECT version, document_sha256 FROM consent_event WHERE subject_id = $1", subject
        )
    assert (event["version"], event["document_sha256"]) == (before.version, before.sha256)
    refused = await http.post(
        "/admin/consent/documents/processing-support", data={"_csrf_token": http.csrf, "body": "x"}
    )
    assert refused.status_code == 400
    await http.aclose()


async def test_no_field_is_requested_without_a_consent_whose_purpose_allows_it(
    base_url, chat, supervisor
) -> None:
    client, conversation = chat
    await supervisor.send(type="request_field", conversation=conversation, field="phone")
    assert (await supervisor.until("error"))["code"] == "consent_required"
    await offer_and_accept(client, supervisor, conversation)
    for field, code in (
        ("health", "forbidden"),
        ("face_image", "forbidden"),
        ("passport", "invalid_frame"),
    ):
        await supervisor.send(type="request_field", conversation=conversation, field=field)
        assert (await supervisor.until("error"))["code"] == code, field
    # The admin unticks «Город» in the support purpose on «Согласия».
    await edit_support_fields(base_url, lambda fields: [f for f in fields if f != "city"])
    try:
        await supervisor.send(type="request_field", conversation=conversation, field="city")
        error = await supervisor.until("error")
        assert error["code"] == "forbidden"
        assert "не входит в цель" in error["message"]
    finally:
        await edit_support_fields(base_url, lambda fields: [*fields, "city"])


async def edit_support_fields(base_url: str, change: Callable[[list[str]], list[str]]) -> None:
    """Submit the support purpose's form on /admin/consent with its fields changed."""
    admin = await admin_console(base_url)
    try:
        page = await admin.open("/admin/consent")
        form = page.split('action="/admin/consent/purposes/support"')[1].split("</form>")[0]
        name = html.unescape(re.search(r'name="name" value="([^"]*)"', form).group(1))
        days = re.search(r'name="retention_days" value="(\d+)"', form).group(1)
        ticked = re.findall(r'name="fields" value="([^"]+)" checked', form)
        response = await admin.http.post(
            "/admin/consent/purposes/support",
            data={
                "name": name,
                "retention_days": days,
                "fields": change(ticked),
                "_csrf_token": csrf_from(page),
            },
        )
        assert response.status_code == 303, response.text
    finally:
        await admin.close()


async def test_the_consent_button_records_proof_and_a_receipt(base_url, chat, supervisor) -> None:
    client, conversation = chat
    await supervisor.send(type="offer_consent", conversation=conversation, purpose="support")
    offer = await client.message(author={"kind": "bot", "name": None})
    assert offer["links"][0]["url"] == "/policy"
    assert offer["links"][1]["url"].startswith("/consents/processing-support/v")
    assert [b["label"] for b in offer["buttons"]] == ["Даю согласие", "Не сейчас"]
    await client.send(type="button", seq=offer["seq"], button="consent:give:processing-support:999")
    assert (await client.until("error"))["code"] == "not_found"
    await client.send(type="button", seq=offer["seq"], button=offer["buttons"][0]["id"])
    thanks = await client.message(
        text="Спасибо, согласие сохранено. Отозвать его можно в любой момент в разделе «Мои данные»."
    )
    receipt_url = thanks["links"][0]["url"]
    subject = uuid.UUID(await subject_of(conversation))
    async with database.acquire() as conn:
        event = await conn.fetchrow("SELECT * FROM consent_event WHERE subject_id = $1", subject)
    current = await documents.current("processing-support")
    assert event["kind"] == "given"
    assert (event["version"], event["document_sha256"]) == (current.version, current.sha256)
    assert event["channel"] == "chat"
    assert event["control"] == "button:Даю согласие"
    assert str(event["ip"]) == "127.0.0.1"
    assert event["user_agent"]
    async with client.http() as http:
        receipt = await http.get(receipt_url)
    assert receipt.status_code == 200
    assert current.sha256 in receipt.text
    stranger = await Client.open(base_url)
    async with stranger.http() as http:
        assert (await http.get(receipt_url)).status_code == 404
    await stranger.close()
    rows = await log_rows(str(subject))
    assert ("collection", "subject", ["ip_address", "user_agent"]) in rows


async def test_a_requested_field_is_validated_saved_and_logged(chat, supervisor) -> None:
    client, conversation = chat
    await offer_and_accept(client, supervisor, conversation)
    await supervisor.send(type="request_field", conversation=conversation, field="phone")
    request = await client.message(text="Оператор просит указать: Телефон")
    assert request["form"]["input"] == "tel"
    await client.send(type="field", seq=request["seq"], value="позвоните мне")
    assert (await client.until("error"))["code"] == "invalid_value"
    await client.send(type="field", seq=request["seq"], value="8 (912) 345-67-89")
    done = await client.message(
        seq=request["seq"], form={**request["form"], "done": True, "display": "+7912***-**-89"}
    )
    assert done["form"]["done"]
    subject = uuid.UUID(await subject_of(conversation))
    async with database.acquire() as conn:
        field = await conn.fetchrow("SELECT * FROM subject_field WHERE subject_id = $1", subject)
        consent_id = await conn.fetchval(
            "SELECT id FROM consent_event WHERE subject_id = $1", subject
        )
        logged = await conn.fetch(
            "SELECT action, purpose, legal_basis FROM processing_log WHERE subject_id = $1 AND 'phone' = ANY(fields)",
            subject,
        )
    assert (field["value"], field["source"], field["purpose"], field["consent_id"]) == (
        "+79123456789",
        "chat",
        "support",
        consent_id,
    )
    assert [(r["action"], r["purpose"], r["legal_basis"]) for r in logged] == [
        (action, "support", f"consent:{consent_id}")
        for action in ("collection", "recording", "storage")
    ]
    profile = (
        await supervisor.http_client.get(
            f"/api/staff/conversations/{conversation}/profile",
            headers={"accept": "application/json"},
        )
    ).json()
    assert {
        "name": "phone",
        "label": "Телефон",
        "value": "+79123456789",
        "category": "general",
    } in profile["fields"]
    await client.send(type="field", seq=request["seq"], value="+7 912 000-00-00")
    assert (await client.until("error"))["code"] == "not_found"


async def test_advertising_and_processing_consents_are_independent(chat, supervisor) -> None:
    client, conversation = chat
    await offer_and_accept(client, supervisor, conversation, purpose="advertising-chat")
    await supervisor.send(type="request_field", conversation=conversation, field="email")
    assert (await supervisor.until("error"))["code"] == "consent_required"
    subject = uuid.UUID(await subject_of(conversation))
    async with database.acquire() as conn:
        purposes = [
            r["purpose_code"]
            for r in await conn.fetch(
                "SELECT purpose_code FROM consent_event WHERE subject_id = $1", subject
            )
        ]
    assert purposes == ["advertising-chat"]
    await supervisor.send(type="offer_consent", conversation=conversation, purpose="support")
    offer = await client.message(author={"kind": "bot", "name": None})
    assert offer["buttons"][0]["label"] == "Даю согласие"


async def test_declining_consent_records_nothing_and_the_chat_goes_on(chat, supervisor) -> None:
    client, conversation = chat
    await supervisor.send(type="offer_consent", conversation=conversation, purpose="support")
    offer = await client.message(author={"kind": "bot", "name": None})
    await client.send(type="button", seq=offer["seq"], button="consent:later")
    await client.message(text="Хорошо, продолжаем без персональных данных.")
    subject = uuid.UUID(await subject_of(conversation))
    async with database.acquire() as conn:
        assert (
            await conn.fetchval("SELECT count(*) FROM consent_event WHERE subject_id = $1", subject)
            == 0
        )
    await client.say("а вопрос остаётся")


async def test_contacts_typed_before_consent_are_masked_and_never_stored(chat, supervisor) -> None:
    client, conversation = chat
    raw = "мой телефон +7 916 555-12-34, почта masha.masked@example.ru"
    ack = await client.say(raw)
    stored = await supervisor.message(seq=ack["seq"])
    assert stored["text"] == "мой телефон [скрыто], почта [скрыто]"
    notice = await client.message(author={"kind": "bot", "name": None})
    assert (
        "скрыли номер телефона и адрес почты" in notice["text"]
        or "скрыли адрес почты и номер телефона" in notice["text"]
    )
    assert notice["buttons"][0]["label"] == "Даю согласие"
    async with database.acquire() as conn:
        for table in ("message", "processing_log", "subject_field", "consent_event"):
            dump = await conn.fetchval(
                f"SELECT coalesce(string_agg(t::text, ' '), '') FROM {table} t"
            )
            for fragment in ("555-12-34", "5551234", "masha.masked"):
                assert fragment not in dump, (table, fragment)

    await client.send(type="button", seq=notice["seq"], button=notice["buttons"][0]["id"])
    await client.message(
        text="Спасибо, согласие сохранено. Отозвать его можно в любой момент в разделе «Мои данные»."
    )
    kept = await client.say(raw)
    assert (await supervisor.message(seq=kept["seq"]))["text"] == raw
    rows = await log_rows(await subject_of(conversation))
    assert ("collection", "subject", ["email", "phone"]) in rows


async def test_consent_events_are_append_only(chat, supervisor) -> None:
    client, conversation = chat
    await offer_and_accept(client, supervisor, conversation)
    subject = uuid.UUID(await subject_of(conversation))
    async with database.acquire() as conn:
        for statement in (
            "UPDATE consent_event SET channel = 'portal' WHERE subject_id = $1",
            "DELETE FROM consent_event WHERE subject_id = $1",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute(statement, subject)
        # Destruction may erase the PD an event carries; the event itself stays.
        await conn.execute(
            "UPDATE consent_event SET ip = NULL, user_agent = NULL WHERE subject_id = $1", subject
        )
        assert (
            await conn.fetchval("SELECT count(*) FROM consent_event WHERE subject_id = $1", subject)
            == 1
        )


async def test_the_dpo_exports_proof_for_a_subject_and_a_period(
    base_url, chat, supervisor, make_staff
) -> None:
    client, conversation = chat
    await offer_and_accept(client, supervisor, conversation)
    subject = await subject_of(conversation)
    dpo = await make_staff(Role.DPO)
    http = await staff_client(base_url, dpo.login)
    http.headers["accept"] = "application/json"
    as_json = (await http.get("/admin/consent/proof/", params={"subject": subject})).json()
    [event] = as_json["events"]
    assert event["subject_id"] == subject
    assert (event["kind"], event["channel"], event["ip"]) == ("given", "chat", "127.0.0.1")
    assert event["document_sha256"] == (await documents.current("processing-support")).sha256
    as_csv = await http.get(
        "/admin/consent/proof/", params={"since": "2020-01-01", "format": "csv"}
    )
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert subject in [row["subject_id"] for row in rows]
    assert (await http.get("/admin/consent/proof/")).status_code == 400
    assert (
        await http.get("/admin/consent/proof/", params={"subject": "not-a-uuid"})
    ).status_code == 400
    await http.aclose()
    operator = await make_staff(Role.OPERATOR)
    op_http = await staff_client(base_url, operator.login)
    op_http.headers["accept"] = "application/json"
    assert (
        await op_http.get("/admin/consent/proof/", params={"subject": subject})
    ).status_code == 403
    await op_http.aclose()


def test_the_policy_is_linked_in_every_page_footer(base_url) -> None:
    for path in ("/", "/chat", "/admin/login", "/policy"):
        assert 'href="/policy"' in httpx.get(f"{base_url}{path}").text, path
