"""Special categories of PD (152-FZ Art. 10): staff mark them, operators no longer see them,
the DPO destroys them or keeps them under a written consent, and the bot never asks for them."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from okno.platform import database, storage
from okno.platform.consent.defaults import OFFERS
from okno.platform.erasure import destruction
from okno.platform.staff.roles import Role
from tests.chat_support import Client, Staff, subject_of
from tests.conftest import staff_client
from tests.test_consent import offer_and_accept
from tests.test_destruction import upload

HIDDEN = "скрыто: особая категория"


async def log_of(conversation: int) -> list[dict]:
    async with database.acquire() as conn:
        rows = await conn.fetch(
            "SELECT action, actor_kind, fields, legal_basis, reason FROM processing_log"
            " WHERE subject_id = $1 ORDER BY id",
            uuid.UUID(await subject_of(conversation)),
        )
    return [dict(r) for r in rows]


async def mark(staff: Staff, conversation: int, seq: int, category: str = "health"):
    return await staff.http_client.post(
        f"/api/staff/conversations/{conversation}/messages/{seq}/special",
        json={"category": category},
        headers={"x-csrf-token": staff.http_client.csrf, "accept": "application/json"},
    )


@pytest.fixture
async def marked(base_url, supervisor):
    """A client wrote about their health with a scan attached; the operator marked it."""
    client = await Client.open(base_url)
    scan = await upload(client, "выписка.txt", b"diagnosis: the scan's content")
    sent = await client.say("У меня диабет второго типа, вот выписка", attachment=scan)
    conversation = sent["conversation"]
    shown = await supervisor.open_conversation(conversation)
    [message] = [m for m in shown if m["seq"] == sent["seq"]]
    response = await mark(supervisor, conversation, sent["seq"])
    assert response.status_code == 200, response.text
    yield client, conversation, sent["seq"], message["attachment"]["url"]
    await client.close()


async def test_a_marked_message_is_hidden_from_staff_everywhere_but_not_from_the_client(
    base_url, supervisor, marked, make_staff
) -> None:
    client, conversation, seq, file_url = marked
    # The open console gets the new version of the message at once.
    update = await supervisor.message(seq=seq, text=HIDDEN)
    assert update["attachment"] is None
    user = await make_staff(Role.SUPERVISOR)
    other = await Staff.open(base_url, user.login)
    [reloaded] = [m for m in await other.open_conversation(conversation) if m["seq"] == seq]
    assert (reloaded["text"], reloaded["attachment"]) == (HIDDEN, None)
    api = other.http_client
    history = (await api.get(f"/api/staff/conversations/{conversation}/messages")).json()
    assert all("диабет" not in m["text"] for m in history["messages"])
    listed = (await api.get("/api/staff/conversations", params={"box": "all"})).json()
    [summary] = [c for c in listed["conversations"] if c["id"] == conversation]
    assert "диабет" not in str(summary)
    found = await api.get("/api/staff/conversations", params={"box": "all", "q": "диабет"})
    assert conversation not in [c["id"] for c in found.json()["conversations"]]
    assert (await api.get(file_url)).status_code == 404
    # The client still sees what they wrote.
    async with client.http() as own:
        mine = (await own.get("/api/chat/messages", headers={"accept": "application/json"})).json()
        assert any("диабет" in m["text"] for m in mine["messages"])
        assert (await own.get(file_url)).status_code == 200
    [blocked] = [r for r in await log_of(conversation) if r["action"] == "blocking"]
    assert blocked == {
        "action": "blocking",
        "actor_kind": "staff",
        "fields": ["health", "message_text", "attachment"],
        "legal_basis": "152-fz:10.1",
        "reason": "особая категория: скрыто от операторов до решения ответственного",
    }
    await other.close()


async def test_marking_is_refused_clearly_when_it_cannot_apply(
    base_url, supervisor, marked
) -> None:
    _, conversation, seq, _ = marked
    again = await mark(supervisor, conversation, seq)
    assert again.status_code == 409
    assert "уже отмечено" in again.json()["detail"]
    unknown = await mark(supervisor, conversation, seq, "hobbies")
    assert unknown.status_code == 400
    reply = await supervisor.say(conversation, "Спасибо, передам специалисту")
    own = await mark(supervisor, conversation, reply["seq"])
    assert own.status_code == 400
    assert "только сообщение клиента" in own.json()["detail"]
    missing = await mark(supervisor, conversation, 10_000)
    assert missing.status_code == 404


async def test_the_dpo_destroys_marked_content_without_a_written_consent(
    base_url, supervisor, marked, make_staff
) -> None:
    client, conversation, seq, _ = marked
    dpo = await make_staff(Role.DPO)
    http = await staff_client(base_url, dpo.login)
    queue = (await http.get("/admin/dpo/special/")).text
    assert f'href="/admin/dpo/special/{conversation}/{seq}"' in queue
    assert "Сведения о здоровье, с вложением" in queue
    assert "диабет" not in queue  # the queue shows no content
    page = await http.get(f"/admin/dpo/special/{conversation}/{seq}")
    assert page.status_code == 200
    assert "У меня диабет второго типа" in page.text
    async with database.acquire() as conn:
        path = await conn.fetchval(
            "SELECT a.path FROM message m JOIN attachment a ON a.id = m.attachment_id"
            " WHERE m.conversation_id = $1 AND m.seq = $2",
            conversation,
            seq,
        )
    assert (storage.files().folder() / path).exists()
    done = await http.post(
        f"/admin/dpo/special/{conversation}/{seq}/destroy", data={"_csrf_token": http.csrf}
    )
    assert done.status_code == 303
    async with database.acquire() as conn:
        body = await conn.fetchval(
            "SELECT body FROM message WHERE conversation_id = $1 AND seq = $2", conversation, seq
        )
    assert "диабет" not in body
    assert not (storage.files().folder() / path).exists()
    async with client.http() as own:
        mine = (await own.get("/api/chat/messages", headers={"accept": "application/json"})).json()
    assert not any("диабет" in m["text"] for m in mine["messages"])
    rows = await log_of(conversation)
    assert [(r["action"], r["actor_kind"], r["legal_basis"]) for r in rows[-2:]] == [
        ("access", "staff", "152-fz:10.1"),
        ("destruction", "staff", "152-fz:21.3"),
    ]
    assert rows[-1]["fields"] == ["health", "message_text", "attachment"]
    assert (
        f'href="/admin/dpo/special/{conversation}/{seq}"'
        not in (await http.get("/admin/dpo/special/")).text
    )
    twice = await http.post(
        f"/admin/dpo/special/{conversation}/{seq}/destroy", data={"_csrf_token": http.csrf}
    )
    assert twice.status_code == 409
    await http.aclose()


async def test_the_dpo_keeps_marked_content_under_a_written_consent(
    base_url, supervisor, marked, make_staff
) -> None:
    _, conversation, seq, _ = marked
    dpo = await make_staff(Role.DPO)
    http = await staff_client(base_url, dpo.login)
    empty = await http.post(
        f"/admin/dpo/special/{conversation}/{seq}/keep",
        data={"_csrf_token": http.csrf, "written_consent": ""},
    )
    assert empty.status_code == 400
    kept = await http.post(
        f"/admin/dpo/special/{conversation}/{seq}/keep",
        data={"_csrf_token": http.csrf, "written_consent": "согласие от 01.12.2026 № 12, дело 7"},
    )
    assert kept.status_code == 303
    async with database.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT body, special_decision, special_consent FROM message"
            " WHERE conversation_id = $1 AND seq = $2",
            conversation,
            seq,
        )
    assert "диабет" in row["body"]
    assert (row["special_decision"], row["special_consent"]) == (
        "kept",
        "согласие от 01.12.2026 № 12, дело 7",
    )
    [stored] = [r for r in await log_of(conversation) if r["legal_basis"] == "152-fz:10.2.1"]
    assert (stored["action"], stored["reason"]) == (
        "storage",
        "особая категория: хранится по письменному согласию",
    )
    # Still hidden from operators: kept lawfully is not shown to everyone.
    history = await supervisor.http_client.get(f"/api/staff/conversations/{conversation}/messages")
    [reloaded] = [m for m in history.json()["messages"] if m["seq"] == seq]
    assert reloaded["text"] == HIDDEN
    # The written consent's reference may name the subject: destruction clears it.
    assert "special-categories" in destruction.load_erasers()
    await http.aclose()


async def test_only_the_dpo_reaches_the_queue(base_url, make_staff) -> None:
    for role in (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN):
        user = await make_staff(role)
        http = await staff_client(base_url, user.login)
        assert (await http.get("/admin/dpo/special/")).status_code == 403
        await http.aclose()


SPECIAL_WORDS = re.compile(
    r"здоров|диагноз|болезн|религи|вероисповед|убеждени|политическ|национальн|расов|судимост"
    r"|интимн",
    re.IGNORECASE,
)


def test_the_bot_never_asks_for_special_category_data() -> None:
    """Every Russian text in the modules whose bot speaks in the chat, read from their source."""
    root = Path(__file__).resolve().parent.parent / "platform"
    speakers = ("chat/bot.py", "chat/service.py", "consent/chat_flow.py", "consent/prechat.py")
    speakers += ("reviews/service.py", "mailings/sending.py", "mailings/unsubscribe.py")
    literals = re.compile(r'"([^"\n]*[а-яё][^"\n]*)"')
    texts = [text for name in speakers for text in literals.findall((root / name).read_text())]
    texts += [text for offer in OFFERS.values() for text in offer]
    assert len(texts) > 20
    assert [text for text in texts if SPECIAL_WORDS.search(text)] == []


async def test_an_operator_cannot_request_a_special_category_field(base_url, supervisor) -> None:
    client = await Client.open(base_url)
    conversation = (await client.say("Здравствуйте"))["conversation"]
    await supervisor.open_conversation(conversation)
    await offer_and_accept(client, supervisor, conversation)
    await supervisor.send(type="request_field", conversation=conversation, field="health")
    error = await supervisor.until("error")
    assert error["code"] in ("consent_required", "invalid_frame", "forbidden")
    await client.close()
