"""The audit, as a test: unique markers for one subject planted, through okno's own surfaces,
everywhere a client, an operator and the DPO can put them; every kind of request filed;
destruction; then none of the subject's values in a pg_dump, the data folder, the servers'
output, or the files of the tables destruction touched, while a control subject keeps all."""

from __future__ import annotations

import os
import secrets
import uuid
from pathlib import Path

import httpx
import pytest

from okno.platform import database
from okno.platform.erasure import compaction
from okno.platform.staff.roles import Role
from tests.chat_support import Client, subject_of
from tests.conftest import ServerProcess, csrf_from, staff_client
from tests.test_consent import offer_and_accept
from tests.test_destruction import dump, fill, upload
from tests.test_destruction_files import holding, output_of, relation_files
from tests.test_portal import login_by_code, portal_from_chat, post_request, reset_ip_limit
from tests.test_reviews import resolved_and_rated


def marker(kind: str) -> str:
    """A value nobody else has: a word of the kind and random letters (valid in every form)."""
    return kind + "".join(secrets.choice("бвгджзклмнпрстфхцчшщ") for _ in range(8))


def digits(n: int) -> str:
    return "".join(secrets.choice("123456789") for _ in range(n))


@pytest.fixture(scope="module")
def prechat_server(database_url):
    server = ServerProcess(database_url, OKNO_PRECHAT_FORM="true")
    yield server
    server.stop()


@pytest.fixture
async def dpo(base_url, make_staff):
    user = await make_staff(Role.DPO)
    client = await staff_client(base_url, user.login)
    yield client
    await client.aclose()


async def post(http: httpx.AsyncClient, url: str, **form: str) -> httpx.Response:
    return await http.post(url, data={**form, "_csrf_token": http.csrf})


class Planted:
    """A subject and every value of theirs planted so far, by where it was put."""

    def __init__(self, conversation: int, subject: uuid.UUID) -> None:
        self.conversation, self.subject = conversation, subject
        self.values: dict[str, str] = {}
        self.consent = 0
        self.incident = ""


async def plant_everywhere(base_url: str, supervisor, dpo) -> tuple[Planted, Client]:
    """A client who chats, consents, edits, gets replies and an internal note, uploads, reviews,
    signs in to «Мои данные» by a code letter, exports, files every request; the operator tags
    them; the DPO enters their letter and an incident mentioning them."""
    name = f"{marker('Имя')} {marker('Фамилия')}"
    phone = "+7912" + digits(7)
    email = f"{marker('mail').lower()}@example.ru"
    values: dict[str, str] = {}
    client = await Client.open(base_url)
    values["before consent"] = marker("досогласия")
    ack = await client.say(f"Здравствуйте, {values['before consent']}, мой телефон {phone}")
    conversation = ack["conversation"]
    await supervisor.open_conversation(conversation)
    thanks = await offer_and_accept(client, supervisor, conversation)
    planted = Planted(conversation, uuid.UUID(await subject_of(conversation)))
    planted.consent = int(thanks["links"][0]["url"].rsplit("/", 1)[1])
    values["name"], values["phone"], values["email"] = name, phone, email
    for field in ("name", "phone", "email"):
        await fill(client, supervisor, conversation, field, values[field])
    values["city"] = marker("Град")
    await fill(client, supervisor, conversation, "city", values["city"])
    values["after consent"] = marker("послесогласия")
    sent = await client.say(f"Заказ потерялся, {values['after consent']}")
    values["edited"] = marker("исправлено")
    await client.send(type="edit", seq=sent["seq"], text=f"Заказ нашёлся, {values['edited']}")
    await client.message(seq=sent["seq"])
    values["reply"] = marker("ответ")
    await supervisor.say(conversation, f"{name}, {values['reply']}", reply_to=sent["seq"])
    values["internal note"] = marker("заметка")
    await supervisor.say(conversation, f"Клиент {name}: {values['internal note']}", internal=True)
    values["attachment name"] = f"{marker('скан')}.txt"
    values["attachment content"] = marker("паспортвложение")
    attachment = await upload(
        client, values["attachment name"], values["attachment content"].encode()
    )
    await client.say("Вот скан", attachment=attachment)
    values["tag"] = marker("метка")
    tagged = await supervisor.http_client.post(
        f"/api/staff/conversations/{conversation}/tags",
        json={"tags": [values["tag"]]},
        headers={"x-csrf-token": supervisor.http_client.csrf},
    )
    assert tagged.status_code == 201, tagged.text
    values["review"] = marker("отзыв")
    choice = await resolved_and_rated(
        client, supervisor, conversation, f"Спасибо, {values['review']}, {name}"
    )
    await client.send(type="button", seq=choice["seq"], button=choice["buttons"][0]["id"])
    await client.message(text="Отзыв опубликован без имени. Спасибо!")

    class Who:
        subject_id, email = str(planted.subject), values["email"]

    Who.client = client
    await reset_ip_limit()
    signed_in = await login_by_code(base_url, Who)  # the code letter lands in the outbox
    made = await post(signed_in, "/me/export")
    assert made.status_code == 303, made.text
    values["request comment"] = marker("запрос")
    portal = await portal_from_chat(base_url, Who)
    for form in (
        {"kind": "access", "comment": values["request comment"]},
        {"kind": "correction", "field": "city", "new_value": marker("Новоград")},
        {"kind": "blocking", "field": "phone", "comment": values["request comment"]},
        {"kind": "destruction", "field": "email"},
        {"kind": "stop_processing", "field": "all"},
    ):
        response = await post_request(portal, **form)
        assert response.status_code == 303, (form, response.text)
    values["letter name"] = f"{marker('Заявитель')} {marker('Отчество')}"
    values["passport"] = f"паспорт 45 {digits(2)} {digits(6)} выдан {marker('отделом')}"
    values["letter address"] = f"г. {marker('Тверь')}, ул. Луговая, д. 5"
    letter = await post(
        dpo,
        "/admin/dpo/requests",
        kind="access",
        subject=str(planted.subject),
        full_name=values["letter name"],
        document=values["passport"],
        address=values["letter address"],
        details=f"Прошу сообщить, {values['letter name']}",
    )
    assert letter.status_code == 303, letter.text
    # The incident report is the DPO's record, not the subject's: it stays, but loses their name.
    planted.incident = marker("инцидент")
    incident = await post(
        dpo,
        "/admin/incidents/",
        detected_at="2026-11-30T10:00",
        summary=f"Переписка клиента {name} ушла не тому адресату, {planted.incident}",
        contact_person="ответственный, +7 495 000-00-00",
        fields="message_text",
        conversations=str(conversation),
    )
    assert incident.status_code == 303, incident.text
    withdrawn = await portal.post(
        f"/me/consents/{planted.consent}/withdraw", data={"_csrf_token": portal.csrf}
    )
    assert withdrawn.status_code == 303, withdrawn.text
    await portal.aclose()
    await signed_in.aclose()
    planted.values = values
    return planted, client


async def plant_prechat(server: ServerProcess) -> Planted:
    http = httpx.AsyncClient(base_url=server.url, headers={"accept": "text/html"})
    page = (await http.get("/chat")).text
    name, phone = marker("Предчат"), "+7916" + digits(7)
    response = await http.post(
        "/chat/prechat",
        data={
            "name": name,
            "phone": phone,
            "topic": "orders",
            "processing": "on",
            "_csrf_token": csrf_from(page),
        },
    )
    assert response.status_code == 303, response.text
    client = await Client.open(server.url, {"okno_visitor": http.cookies["okno_visitor"]})
    text = marker("предчатсообщение")
    ack = await client.say(text)
    planted = Planted(ack["conversation"], uuid.UUID(await subject_of(ack["conversation"])))
    planted.values = {"prechat name": name, "prechat phone": phone, "prechat message": text}
    await client.close()
    await http.aclose()
    return planted


def data_folder_files() -> list[Path]:
    """okno's data folder (outbox, attachments, exports, logs); an embedded PostgreSQL's own
    folder is read as relation files below (its WAL keeps old values: docs/dpo.md)."""
    root = Path(os.environ["OKNO_DATA_DIR"])  # what the servers were started with
    return [
        path
        for path in root.rglob("*")
        if path.is_file() and "postgres" not in path.relative_to(root).parts[:1]
    ]


async def test_after_destruction_no_value_of_the_subject_is_left_anywhere(
    base_url, database_url, server, prechat_server, supervisor, dpo
) -> None:
    victim, victim_client = await plant_everywhere(base_url, supervisor, dpo)
    control, control_client = await plant_everywhere(base_url, supervisor, dpo)
    early = await plant_prechat(prechat_server)
    destroyed = {**victim.values, **early.values}
    kept = {kind: value for kind, value in control.values.items() if kind != "before consent"}
    before = dump()
    # Everything is in the database before, but the file's content (a file) and the text the
    # edit replaced (only PostgreSQL's old row version holds it until the rewrite).
    missing = {kind for kind, value in destroyed.items() if value not in before}
    assert missing == {"attachment content", "after consent"}, missing

    async with database.acquire() as conn:
        withdrawal = await conn.fetchval(
            "SELECT id FROM rights_request WHERE subject_id = $1 AND kind = 'consent_withdrawn'",
            victim.subject,
        )
    for step in ("identity_check", "review", "approved"):
        await post(dpo, f"/admin/dpo/requests/{withdrawal}/transition", to=step)
    done = await post(
        dpo, f"/admin/dpo/requests/{withdrawal}/execute", confirm="yes", scope="subject"
    )
    assert done.status_code == 303, done.text
    act = (await dpo.get(f"{done.headers['location']}/json")).json()["act"]
    assert {c["field"] for c in act["categories"]} >= {
        "name",
        "phone",
        "email",
        "city",
        "message_text",
        "attachment",
        "tags",
        "review_text",
        "requester_name",
        "requester_document",
        "requester_address",
        "letter",
        "export",
        "staff_texts",
    }
    done = await post(
        dpo,
        f"/admin/dpo/subjects/{early.subject}/destroy",
        confirm="yes",
        reason="проверка уничтожения",
    )
    assert done.status_code == 303, done.text

    after = dump()
    assert [k for k, v in destroyed.items() if v in after] == []
    in_files = ("attachment content", "after consent")  # a file; a text replaced by an edit
    assert [k for k, v in kept.items() if v not in after and k not in in_files] == []
    assert victim.incident in after, "the incident report itself stays"
    assert f"Переписка клиента [удалено] ушла не тому адресату, {victim.incident}" in after
    files = data_folder_files()
    assert holding(files, destroyed) == set()
    assert holding(files, {"attachment content": control.values["attachment content"]})
    outputs = [output_of(server), output_of(prechat_server)]
    assert holding(outputs, destroyed) == set()
    heaps = await relation_files(compaction.tables_of_erasers())
    assert holding(heaps, destroyed) == set()
    assert holding(heaps, {"name": control.values["name"], "tag": control.values["tag"]})
    async with httpx.AsyncClient(base_url=base_url) as public:
        reviews = (await public.get("/reviews")).text
    assert victim.values["review"] not in reviews
    assert control.values["review"] in reviews
    assert control.values["name"].split()[0] not in reviews  # names in a review are hidden
    await victim_client.close()
    await control_client.close()
