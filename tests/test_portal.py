"""«Мои данные» (/me): who the subject is, what they see and export, and what revoking does."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import msgspec
import pytest

from okno.platform import database
from okno.platform.rights.deadlines import RequestKind, deadline
from okno.platform.staff.roles import Role
from tests.chat_support import Client, Staff, subject_of
from tests.conftest import csrf_from

THANKS = "Спасибо, согласие сохранено. Отозвать его можно в любой момент в разделе «Мои данные»."


# ------------------------------------------------------------------ helpers (the browser test too)


async def give_consent(client: Client, supervisor: Staff, conversation: int, purpose: str) -> int:
    """The operator offers a consent in the chat and the client presses the first button."""
    await supervisor.send(type="offer_consent", conversation=conversation, purpose=purpose)
    offer = await client.message(author={"kind": "bot", "name": None})
    await client.send(type="button", seq=offer["seq"], button=offer["buttons"][0]["id"])
    thanks = await client.message(text=THANKS)
    return int(thanks["links"][0]["url"].rsplit("/", 1)[1])


async def fill_field(
    client: Client, supervisor: Staff, conversation: int, field: str, value: str
) -> None:
    await supervisor.send(type="request_field", conversation=conversation, field=field)
    form = await client.message(author={"kind": "bot", "name": None})
    assert form["form"]["field"] == field, form
    await client.send(type="field", seq=form["seq"], value=value)
    await client.message(seq=form["seq"], wait=5)


class Person:
    """A client who chatted, consented to processing, and gave an e-mail (and maybe a phone)."""

    def __init__(
        self, client: Client, conversation: int, subject_id: str, email: str, consent: int
    ) -> None:
        self.client, self.conversation, self.subject_id = client, conversation, subject_id
        self.email, self.consent = email, consent


async def make_person(base_url: str, supervisor: Staff, *, phone: str | None = None) -> Person:
    client = await Client.open(base_url)
    ack = await client.say("Здравствуйте, вопрос по заказу")
    conversation = ack["conversation"]
    await supervisor.open_conversation(conversation)
    consent = await give_consent(client, supervisor, conversation, "support")
    email = f"client.{secrets.token_hex(4)}@example.ru"
    await fill_field(client, supervisor, conversation, "email", email)
    if phone:
        await fill_field(client, supervisor, conversation, "phone", phone)
    return Person(client, conversation, await subject_of(conversation), email, consent)


async def portal_from_chat(base_url: str, person: Person) -> httpx.AsyncClient:
    """The browser the client chats from: «Мои данные» opens without signing in."""
    http = httpx.AsyncClient(
        base_url=base_url, cookies=person.client.cookies, headers={"accept": "text/html"}
    )
    response = await http.get("/me")
    assert response.status_code == 303
    assert response.headers["location"] == "/me/data"
    assert "okno_portal" in http.cookies
    page = await http.get("/me/data")
    assert page.status_code == 200
    http.csrf = csrf_from(page.text)  # type: ignore[attr-defined]
    return http


def read_text(path: str) -> str:
    return Path(path).read_bytes().decode()


def exists(path: str) -> bool:
    return Path(path).exists()


async def outbox_code(subject_id: str, after: int = 0, wait: float = 5) -> tuple[str, int]:
    """The code in the newest letter to the subject in the outbox (no SMTP in tests)."""
    deadline_at = time.monotonic() + wait
    while time.monotonic() < deadline_at:
        async with database.acquire() as conn:
            rows = await conn.fetch(
                "SELECT path FROM mail_outbox WHERE subject_id = $1 ORDER BY created_at",
                uuid.UUID(subject_id),
            )
        if len(rows) > after:
            text = read_text(rows[-1]["path"])
            match = re.search(r"«Мои данные»: (\d{6})", text) or re.search(
                r"(\d{6})", text.split("\n\n", 1)[1]
            )
            assert match, text
            return match.group(1), len(rows)
        await asyncio.sleep(0.05)
    raise AssertionError("no letter in the outbox")


async def letters(subject_id: str) -> int:
    async with database.acquire() as conn:
        return await conn.fetchval(
            "SELECT count(*) FROM mail_outbox WHERE subject_id = $1", uuid.UUID(subject_id)
        )


async def ask_code(base_url: str, email: str) -> tuple[httpx.AsyncClient, httpx.Response]:
    """A fresh browser asks for a code; returns it and the answer to the address form."""
    http = httpx.AsyncClient(base_url=base_url, headers={"accept": "text/html"})
    page = await http.get("/me/login")
    response = await http.post(
        "/me/login", data={"email": email, "_csrf_token": csrf_from(page.text)}
    )
    return http, response


async def enter_code(http: httpx.AsyncClient, code: str) -> httpx.Response:
    page = await http.get("/me/login/code")
    return await http.post(
        "/me/login/code", data={"code": code, "_csrf_token": csrf_from(page.text)}
    )


async def login_by_code(base_url: str, person: Person) -> httpx.AsyncClient:
    before = await letters(person.subject_id)
    http, response = await ask_code(base_url, person.email)
    assert response.status_code == 303, response.text
    code, _ = await outbox_code(person.subject_id, before)
    signed_in = await enter_code(http, code)
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/me/data"
    http.csrf = csrf_from((await http.get("/me/data")).text)  # type: ignore[attr-defined]
    return http


async def log_of(subject_id: str) -> list[dict]:
    async with database.acquire() as conn:
        rows = await conn.fetch(
            "SELECT action, actor_kind, fields, purpose, legal_basis, request_id, reason"
            " FROM processing_log WHERE subject_id = $1 ORDER BY id",
            uuid.UUID(subject_id),
        )
    return [dict(r) for r in rows]


async def reset_ip_limit() -> None:
    async with database.acquire() as conn:
        await conn.execute("UPDATE portal_code SET ip_hash = NULL")


# ------------------------------------------------------------------ fixtures


@pytest.fixture
async def supervisor(base_url, make_staff):
    user = await make_staff(Role.SUPERVISOR)
    staff = await Staff.open(base_url, user.login)
    staff.user = user
    yield staff
    await staff.close()


@pytest.fixture
async def person(base_url, supervisor):
    await reset_ip_limit()
    one = await make_person(base_url, supervisor, phone="+7 912 345-67-01")
    yield one
    await one.client.close()


@pytest.fixture
async def other(base_url, supervisor):
    two = await make_person(base_url, supervisor, phone="+7 912 345-67-02")
    yield two
    await two.client.close()


# ------------------------------------------------------------------ who the subject is


async def test_the_chat_browser_opens_the_portal_without_signing_in(base_url, person) -> None:
    http = await portal_from_chat(base_url, person)
    page = await http.get("/me/data")
    assert person.email in page.text
    assert "+79123456701" in page.text
    assert "Электронная почта" in page.text
    assert "общие" in page.text
    assert "Ответы на обращения клиентов в чате" in page.text
    assert "вы указали в чате" in page.text
    rows = await log_of(person.subject_id)
    assert {
        "action": "use",
        "actor_kind": "system",
        "fields": ["visitor_token"],
        "purpose": "subject-rights",
        "legal_basis": "152-fz:14",
        "request_id": None,
        "reason": "вход в «Мои данные» из браузера, где идёт чат",
    } in rows
    provided = [r for r in rows if r["action"] == "provision"]
    assert provided
    assert provided[-1]["fields"] == ["email", "phone"]
    assert provided[-1]["actor_kind"] == "system"
    # Signing out ends the session.
    out = await http.post("/me/logout", data={"_csrf_token": http.csrf})
    assert out.status_code == 303
    http.cookies.delete("okno_visitor")
    assert (await http.get("/me/data")).headers["location"] == "/me/login"
    await http.aclose()


async def test_a_browser_with_no_subject_is_sent_to_sign_in(base_url) -> None:
    async with httpx.AsyncClient(base_url=base_url, headers={"accept": "text/html"}) as http:
        await http.get("/chat")  # a visitor who has not written: no subject yet
        response = await http.get("/me")
        assert response.headers["location"] == "/me/login"
        assert "okno_portal" not in http.cookies
        login = await http.get("/me/login")
        assert login.status_code == 200
        assert 'name="email"' in login.text


async def test_code_login_never_says_whether_an_address_is_known(base_url, person) -> None:
    before = await letters(person.subject_id)
    known_http, known = await ask_code(base_url, person.email)
    unknown_http, unknown = await ask_code(base_url, f"nobody.{secrets.token_hex(3)}@example.ru")
    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"] == unknown.headers["location"] == "/me/login/code"
    assert set(known.cookies) == set(unknown.cookies)
    known_page = (await known_http.get("/me/login/code")).text
    unknown_page = (await unknown_http.get("/me/login/code")).text
    strip = lambda html: re.sub(r'content="[^"]+"|value="[^"]+"', "", html)  # noqa: E731
    assert strip(known_page) == strip(unknown_page)
    assert "Если этот адрес есть у нас" in known_page
    # Only the known address gets a letter, after the answer.
    code, _ = await outbox_code(person.subject_id, before)
    assert len(code) == 6
    # A code typed for an unknown address is simply wrong, with the same counter.
    wrong = await enter_code(unknown_http, code)
    assert wrong.status_code == 400
    assert "осталось попыток: 4" in wrong.text
    # Timing: both answers do the same database work; the letter is sent afterwards.
    durations: dict[str, list[float]] = {"known": [], "unknown": []}
    await reset_ip_limit()
    for _ in range(3):
        for label, email in (("known", person.email), ("unknown", "nobody.x@example.ru")):
            started = time.perf_counter()
            http, _response = await ask_code(base_url, email)
            durations[label].append(time.perf_counter() - started)
            await http.aclose()
        async with database.acquire() as conn:
            await conn.execute("DELETE FROM portal_code")  # keep under the per-address limit
    assert abs(min(durations["known"]) - min(durations["unknown"])) < 0.25, durations
    # A letter was written for the known address, none for the other, and the log says so.
    rows = await log_of(person.subject_id)
    assert any(r["action"] == "use" and r["fields"] == ["email"] for r in rows)
    for client in (known_http, unknown_http):
        await client.aclose()


async def test_a_code_signs_in_once_and_is_stored_only_hashed(base_url, person) -> None:
    before = await letters(person.subject_id)
    http, _ = await ask_code(base_url, person.email)
    code, _ = await outbox_code(person.subject_id, before)
    async with database.acquire() as conn:
        dump = await conn.fetchval("SELECT string_agg(t::text, ' ') FROM portal_code t")
    assert code not in dump
    assert person.email not in dump
    assert (await enter_code(http, code)).status_code == 303
    page = await http.get("/me/data")
    assert page.status_code == 200
    assert person.email in page.text
    # The same code again, even from the same browser's pending step: refused.
    again = httpx.AsyncClient(base_url=base_url, headers={"accept": "text/html"})
    again.cookies.set("okno_portal_login", http.cookies.get("okno_portal_login") or "x", path="/me")
    assert (await enter_code(again, code)).status_code == 400
    await again.aclose()
    await http.aclose()


async def test_a_code_expires(base_url, person) -> None:
    before = await letters(person.subject_id)
    http, _ = await ask_code(base_url, person.email)
    code, _ = await outbox_code(person.subject_id, before)
    async with database.acquire() as conn:
        await conn.execute(
            "UPDATE portal_code SET expires_at = now() - interval '1 second' WHERE subject_id = $1",
            uuid.UUID(person.subject_id),
        )
    refused = await enter_code(http, code)
    assert refused.status_code == 400
    assert "срок действия кода истёк" in refused.text
    assert "okno_portal" not in http.cookies
    await http.aclose()


async def test_a_code_allows_five_attempts(base_url, person) -> None:
    before = await letters(person.subject_id)
    http, _ = await ask_code(base_url, person.email)
    code, _ = await outbox_code(person.subject_id, before)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for left in (4, 3, 2, 1):
        response = await enter_code(http, wrong)
        assert f"осталось попыток: {left}" in response.text
    assert "попытки исчерпаны" in (await enter_code(http, wrong)).text
    late = await enter_code(http, code)
    assert late.status_code == 400
    assert "слишком много неверных попыток" in late.text
    await http.aclose()


async def test_codes_per_address_are_limited_alike_for_known_and_unknown(base_url, person) -> None:
    async with database.acquire() as conn:
        await conn.execute("DELETE FROM portal_code")
    for email in (person.email, f"nobody.{secrets.token_hex(3)}@example.ru"):
        for _ in range(5):
            http, response = await ask_code(base_url, email)
            assert response.status_code == 303
            await http.aclose()
        http, refused = await ask_code(base_url, email)
        assert refused.status_code == 429
        assert "слишком много запросов кода" in refused.text
        await http.aclose()
    async with database.acquire() as conn:
        await conn.execute("DELETE FROM portal_code")


async def test_codes_per_client_ip_are_limited(database_url, db) -> None:
    from tests.conftest import ServerProcess

    await reset_ip_limit()
    limited = ServerProcess(database_url, OKNO_PORTAL_CODES_PER_IP_HOUR="3")
    try:
        for _ in range(3):
            http, response = await ask_code(limited.url, f"n.{secrets.token_hex(3)}@example.ru")
            assert response.status_code == 303
            await http.aclose()
        http, refused = await ask_code(limited.url, f"n.{secrets.token_hex(3)}@example.ru")
        assert refused.status_code == 429
        await http.aclose()
    finally:
        limited.stop()
        await reset_ip_limit()


async def test_a_bad_address_is_refused_without_sending_anything(base_url) -> None:
    http, response = await ask_code(base_url, "not an address")
    assert response.status_code == 400
    assert "не похоже на адрес" in response.text
    await http.aclose()


async def test_the_portal_and_staff_sessions_are_separate(base_url, person, supervisor) -> None:
    http = await portal_from_chat(base_url, person)
    staff_cookie = supervisor.http_client.cookies["okno_staff"]
    async with httpx.AsyncClient(
        base_url=base_url, cookies={"okno_staff": staff_cookie}, headers={"accept": "text/html"}
    ) as staff_only:
        assert (await staff_only.get("/me/data")).headers["location"] == "/me/login"
    portal_cookie = http.cookies["okno_portal"]
    async with httpx.AsyncClient(
        base_url=base_url, cookies={"okno_staff": portal_cookie}, headers={"accept": "text/html"}
    ) as forged:
        refused = await forged.get("/admin/consent/")
        assert refused.status_code in (302, 303, 401)
        assert refused.headers.get("location", "/admin/login").startswith("/admin/login")
    # Every form needs the CSRF token.
    assert (await http.post("/me/export")).status_code == 403
    await http.aclose()


# ------------------------------------------------------------------ only one's own data


def portal_routes() -> list[tuple[str, str, object]]:
    from okno.platform.web.access import declared_access
    from tests.test_access import http_routes

    return [
        (method, path, handler)
        for method, path, handler in http_routes()
        if path.startswith("/me") and declared_access(handler) == "subject"
    ]


def test_every_portal_page_needs_the_subject_session() -> None:
    from okno.platform.web.access import declared_access
    from tests.test_access import http_routes

    for method, path, handler in http_routes():
        if path == "/me" or path.startswith("/me/"):  # not /metrics
            public = {"/me", "/me/login", "/me/login/code"}
            assert declared_access(handler) == ("public" if path in public else "subject"), (
                method,
                path,
            )
    assert len(portal_routes()) >= 12


async def test_every_portal_route_shows_a_subject_only_their_own_data(
    base_url, person, other
) -> None:
    mine = await portal_from_chat(base_url, person)
    theirs = await portal_from_chat(base_url, other)
    await mine.post("/me/export", data={"_csrf_token": mine.csrf})
    export_id = re.search(r'href="/me/export/([^"]+\.json)"', (await mine.get("/me/export")).text)
    assert export_id
    values = {"event_id": str(person.consent), "export_id": export_id.group(1)}
    secrets_of_mine = (person.email, "+79123456701", person.subject_id)
    anonymous = httpx.AsyncClient(base_url=base_url)
    csrf_anon = csrf_from((await anonymous.get("/me/login")).text)
    walked = []
    for method, path, _ in portal_routes():
        url = re.sub(r"\{(\w+):\w+\}", lambda m: values[m.group(1)], path)
        walked.append(f"{method} {url}")
        form = {"_csrf_token": theirs.csrf, "kind": "access"}
        # Someone else's session: never the first subject's data, never an act on it.
        response = await theirs.request(method, url, data=form if method == "POST" else None)
        assert response.status_code != 500, (method, url, response.text)
        for secret in secrets_of_mine:
            assert secret not in response.text, (method, url)
        if "{" in path:
            assert response.status_code in (404, 409), (method, url, response.status_code)
        # No session at all: sent to sign in (HTML) or 401 (JSON).
        for accept, expected in (("text/html", 303), ("application/json", 401)):
            nobody = await anonymous.request(
                method,
                url,
                headers={"accept": accept, "x-csrf-token": csrf_anon},
                data={"_csrf_token": csrf_anon} if method == "POST" else None,
            )
            assert nobody.status_code == expected, (method, url, accept, nobody.status_code)
            for secret in secrets_of_mine:
                assert secret not in nobody.text
    assert any(w.startswith("POST /me/consents/") for w in walked)
    # The first subject's consent is still in force and their export still theirs.
    async with database.acquire() as conn:
        withdrawn = await conn.fetchval(
            "SELECT count(*) FROM consent_event WHERE given_id = $1", person.consent
        )
    assert withdrawn == 0
    assert (await mine.get(f"/me/export/{values['export_id']}")).status_code == 200
    for client in (mine, theirs, anonymous):
        await client.aclose()


# ------------------------------------------------------------------ export


async def test_the_export_holds_everything_of_the_subject_and_nobody_else(
    base_url, person, other, supervisor
) -> None:
    await supervisor.say(person.conversation, "Меня зовут как в профиле, чем помочь?")
    await supervisor.say(person.conversation, "заметка: клиент вежлив", internal=True)
    ad = await give_consent(person.client, supervisor, person.conversation, "advertising-chat")
    http = await portal_from_chat(base_url, person)
    made = await http.post("/me/export", data={"_csrf_token": http.csrf})
    assert made.status_code == 303
    page = (await http.get("/me/export")).text
    json_link = re.search(r'href="(/me/export/[^"]+\.json)"', page).group(1)
    html_link = re.search(r'href="(/me/export/[^"]+\.html)"', page).group(1)
    response = await http.get(json_link)
    assert response.headers["content-type"].startswith("application/json")
    assert "attachment" in response.headers["content-disposition"]
    data = msgspec.json.decode(response.content)
    fields = {f["name"]: f for f in data["fields"]}
    assert fields["email"]["value"] == person.email
    assert fields["phone"]["value"] == "+79123456701"
    assert {"category", "purpose", "source", "collected_at", "retain_until"} <= set(fields["email"])
    assert {c["id"] for c in data["consents"]} == {person.consent, ad}
    consent = next(c for c in data["consents"] if c["id"] == person.consent)
    assert consent["version_url"].startswith("/consents/processing-support/v")
    assert consent["ip_address"] == "127.0.0.1"
    assert consent["user_agent"]
    art = data["art14_7"]
    for key in (
        "processing_confirmed",
        "grounds_and_purposes",
        "methods",
        "operator",
        "who_has_access",
        "data_and_sources",
        "terms",
        "rights",
        "cross_border_transfer",
        "processor",
    ):
        assert art[key], key
    [chat] = data["conversations"]
    texts = [m["text"] for m in chat["messages"]]
    assert "Здравствуйте, вопрос по заказу" in texts
    assert "Меня зовут как в профиле, чем помочь?" in texts
    assert "заметка: клиент вежлив" not in texts
    authors = {m["author"] for m in chat["messages"] if m["author_kind"] == "staff"}
    assert authors == {f"старший оператор {supervisor.user.pseudonym}"}
    raw = response.text
    assert supervisor.user.login not in raw  # the operator's name (display name = login here)
    for foreign in (other.email, "+79123456702", other.subject_id):
        assert foreign not in raw, foreign
    assert other.consent not in {c["id"] for c in data["consents"]}
    html = await http.get(html_link)
    assert html.headers["content-type"].startswith("text/html")
    assert person.email in html.text
    assert "ч. 7 ст. 14" in html.text
    assert supervisor.user.login not in html.text
    assert other.email not in html.text
    # Logged as provision of what was exported.
    rows = await log_of(person.subject_id)
    export_rows = [r for r in rows if r["reason"] == "выгрузка ваших данных по вашему запросу"]
    assert [r["action"] for r in export_rows] == ["provision"]
    assert set(export_rows[0]["fields"]) == {
        "email",
        "phone",
        "message_text",
        "ip_address",
        "user_agent",
    }
    # Someone else's session cannot download it; an expired link is gone.
    theirs = await portal_from_chat(base_url, other)
    assert (await theirs.get(json_link)).status_code == 404
    async with database.acquire() as conn:
        await conn.execute(
            "UPDATE portal_export SET expires_at = now() - interval '1 second'"
            " WHERE subject_id = $1",
            uuid.UUID(person.subject_id),
        )
    assert (await http.get(json_link)).status_code == 404
    for client in (http, theirs):
        await client.aclose()


# ------------------------------------------------------------------ revoke


async def test_withdrawing_the_processing_consent_stops_it_and_opens_destruction(
    base_url, person, supervisor
) -> None:
    http = await portal_from_chat(base_url, person)
    confirm = await http.get(f"/me/consents/{person.consent}/withdraw")
    assert confirm.status_code == 200
    assert "30 дней" in confirm.text
    assert "операторы больше не видят" in confirm.text
    assert "Электронная почта" in confirm.text
    done = await http.post(
        f"/me/consents/{person.consent}/withdraw", data={"_csrf_token": http.csrf}
    )
    assert done.status_code == 303
    subject = uuid.UUID(person.subject_id)
    async with database.acquire() as conn:
        withdrawal = await conn.fetchrow(
            "SELECT id, channel, control, at FROM consent_event WHERE given_id = $1",
            person.consent,
        )
        request = await conn.fetchrow(
            "SELECT id, kind, purpose_code, consent_id, channel, received_at, due_at"
            " FROM rights_request WHERE subject_id = $1",
            subject,
        )
    assert withdrawal["channel"] == "portal"
    assert withdrawal["control"] == "button:Отозвать согласие"
    assert (request["kind"], request["purpose_code"], request["consent_id"]) == (
        "consent_withdrawn",
        "support",
        person.consent,
    )
    assert request["due_at"] == deadline(RequestKind.CONSENT_WITHDRAWN, request["received_at"])
    assert request["due_at"] - request["received_at"] <= timedelta(days=31)
    # The operator no longer sees the fields, and cannot ask for them again.
    profile = (
        await supervisor.http_client.get(
            f"/api/staff/conversations/{person.conversation}/profile",
            headers={"accept": "application/json"},
        )
    ).json()
    assert profile["fields"] == []
    await supervisor.send(type="request_field", conversation=person.conversation, field="phone")
    assert (await supervisor.until("error"))["code"] == "consent_required"
    # Logged: the proof of withdrawal (consent service) and the stop of the purpose's fields.
    rows = await log_of(person.subject_id)
    assert any(r["action"] == "collection" and r["reason"] == "согласие отозвано" for r in rows)
    [blocking] = [r for r in rows if r["action"] == "blocking"]
    assert blocking == {
        "action": "blocking",
        "actor_kind": "system",
        "fields": ["email", "phone"],
        "purpose": "support",
        "legal_basis": "152-fz:21.5",
        "request_id": request["id"],
        "reason": "отзыв согласия",
    }
    page = (await http.get("/me/consents?done=1")).text
    assert "Согласие отозвано" in page
    data = (await http.get("/me/data")).text
    assert "согласие отозвано" in data
    requests_page = (await http.get("/me/requests")).text
    assert "Отзыв согласия" in requests_page
    assert "30 календарных дней" in requests_page
    # Twice is refused.
    again = await http.post(
        f"/me/consents/{person.consent}/withdraw",
        data={"_csrf_token": http.csrf},
        headers={"accept": "application/json"},
    )
    assert again.status_code == 409
    await http.aclose()


async def test_withdrawing_advertising_stops_it_at_once_and_nothing_else(
    base_url, person, supervisor
) -> None:
    ad = await give_consent(person.client, supervisor, person.conversation, "advertising-chat")
    http = await portal_from_chat(base_url, person)
    confirm = await http.get(f"/me/consents/{ad}/withdraw")
    assert "прекратятся сразу" in confirm.text
    await http.post(f"/me/consents/{ad}/withdraw", data={"_csrf_token": http.csrf})
    subject = uuid.UUID(person.subject_id)
    async with database.acquire() as conn:
        from okno.platform.consent import service as consent

        assert await consent.active(conn, subject, "advertising-chat") is None
        assert await consent.active(conn, subject, "support") is not None
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM rights_request WHERE subject_id = $1", subject
            )
            == 0
        )
    assert not [r for r in await log_of(person.subject_id) if r["action"] == "blocking"]
    await http.aclose()


# ------------------------------------------------------------------ requests


async def post_request(http: httpx.AsyncClient, **form: str) -> httpx.Response:
    return await http.post("/me/requests", data={"_csrf_token": http.csrf, **form})


async def test_requests_carry_their_legal_deadlines(base_url, person) -> None:
    http = await portal_from_chat(base_url, person)
    subject = uuid.UUID(person.subject_id)
    access = await post_request(http, kind="access")
    assert access.status_code == 303
    page = (await http.get(access.headers["location"])).text
    assert "Запрос сведений об обработке ПДн" in page
    assert "10 рабочих дней" in page
    # A repeat access request within 30 days is explained, not filed.
    repeat = await post_request(http, kind="access")
    assert repeat.status_code == 409
    assert "ч. 4 ст. 14" in repeat.text
    assert "Запрос не подан" in repeat.text
    async with database.acquire() as conn:
        count = await conn.fetchval(
            "SELECT count(*) FROM rights_request WHERE subject_id = $1 AND kind = 'access'",
            subject,
        )
    assert count == 1
    incomplete = await post_request(
        http, kind="access", answer_incomplete="1", comment="не хватило сроков"
    )
    assert incomplete.status_code == 303
    # Correction: the new value is validated, filed, and logged as collected for the request.
    bad = await post_request(http, kind="correction", field="phone", new_value="позвоните")
    assert bad.status_code == 400
    assert "номер телефона" in bad.text
    good = await post_request(http, kind="correction", field="phone", new_value="+7 912 000-11-22")
    assert good.status_code == 303
    # Blocking takes effect at once.
    blocked = await post_request(http, kind="blocking", field="email", comment="неточные")
    assert blocked.status_code == 303
    for kind in ("destruction", "stop_processing"):
        assert (await post_request(http, kind=kind, field="all")).status_code == 303
    assert (await post_request(http, kind="unlawful_stop")).status_code == 400
    assert (await post_request(http, kind="nonsense")).status_code == 400
    async with database.acquire() as conn:
        found = {
            r["kind"]: r
            for r in await conn.fetch(
                "SELECT id, kind, details, received_at, due_at FROM rights_request"
                " WHERE subject_id = $1",
                subject,
            )
        }
        email_blocked = await conn.fetchval(
            "SELECT blocked_at FROM subject_field WHERE subject_id = $1 AND field = 'email'",
            subject,
        )
    assert set(found) == {"access", "correction", "blocking", "destruction", "stop_processing"}
    for kind, row in found.items():
        assert row["due_at"] == deadline(RequestKind(kind), row["received_at"]), kind
    assert msgspec.json.decode(found["correction"]["details"])["new_value"] == "+79120001122"
    assert email_blocked is not None
    rows = await log_of(person.subject_id)
    assert {
        "action": "collection",
        "actor_kind": "subject",
        "fields": ["phone"],
        "purpose": "subject-rights",
        "legal_basis": "152-fz:21.2",
        "request_id": found["correction"]["id"],
        "reason": "новое значение в запросе на уточнение",
    } in rows
    assert {
        "action": "blocking",
        "actor_kind": "system",
        "fields": ["email"],
        "purpose": "subject-rights",
        "legal_basis": "152-fz:21.1",
        "request_id": found["blocking"]["id"],
        "reason": "блокирование на время проверки по вашему требованию",
    } in rows
    # The DPO's answer and every status change show on the page.
    from okno.platform.rights import requests as rights

    async with database.transaction():
        conn = database.connection()
        await rights.transition(conn, found["destruction"]["id"], "review", None)
        await rights.transition(
            conn,
            found["destruction"]["id"],
            "refused",
            None,
            reason="данные получены законно: ваше согласие № 1 (ст. 9 152-ФЗ)",
        )
    page = (await http.get("/me/requests")).text
    assert "рассмотрение" in page
    assert "отказано" in page
    assert "данные получены законно" in page
    await http.aclose()


# ------------------------------------------------------------------ processing history


async def test_the_history_page_names_staff_by_pseudonym_only(base_url, person, supervisor) -> None:
    http = await portal_from_chat(base_url, person)
    page = (await http.get("/me/history")).text
    assert "открыл(а) переписку" in page
    assert supervisor.user.pseudonym in page, re.findall(r"<strong>[^<]*</strong>[^<]*", page)
    assert supervisor.user.login not in page
    assert "данные предоставлены вам" in page
    assert "Вы" in page
    await http.aclose()


# ------------------------------------------------------------------ destruction


async def test_the_portal_eraser_removes_sessions_codes_exports_and_letters(
    base_url, person
) -> None:
    from okno.platform.erasure.registry import ERASERS
    from okno.platform.selfservice import erasure  # noqa: F401

    http = await login_by_code(base_url, person)
    await http.post("/me/export", data={"_csrf_token": http.csrf})
    subject = uuid.UUID(person.subject_id)
    async with database.acquire() as conn:
        paths = [
            r["path"]
            for r in await conn.fetch("SELECT path FROM mail_outbox WHERE subject_id = $1", subject)
        ]
    assert paths
    assert all(exists(p) for p in paths)
    async with database.transaction():
        counts = await ERASERS["portal"](database.connection(), subject)
    assert counts["выгрузки данных"] == 2
    assert counts["письма в папке исходящих"] == len(paths)
    assert counts["сеансы «Моих данных»"] >= 1
    assert counts["коды входа"] >= 1
    assert not any(exists(p) for p in paths)
    async with database.acquire() as conn:
        for table in ("portal_session", "portal_code", "portal_export", "mail_outbox"):
            left = await conn.fetchval(
                f"SELECT count(*) FROM {table} WHERE subject_id = $1", subject
            )
            assert left == 0, table
    assert (await http.get("/me/data")).headers["location"] == "/me/login"
    await http.aclose()


async def test_after_sign_out_a_code_in_the_chat_browser_reopens_the_way_in(
    base_url, person
) -> None:
    http = await portal_from_chat(base_url, person)
    await http.post("/me/logout", data={"_csrf_token": http.csrf})  # type: ignore[attr-defined]
    assert (await http.get("/me")).headers["location"] == "/me/login"
    before = await letters(person.subject_id)
    page = await http.get("/me/login")
    asked = await http.post(
        "/me/login", data={"email": person.email, "_csrf_token": csrf_from(page.text)}
    )
    assert asked.status_code == 303
    code, _ = await outbox_code(person.subject_id, before)
    assert (await enter_code(http, code)).headers["location"] == "/me/data"
    http.cookies.delete("okno_portal")  # the session ends (it expired, say)
    assert (await http.get("/me")).headers["location"] == "/me/data"
    await http.aclose()
