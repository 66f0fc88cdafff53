"""What the subject reads and does: the policy says the legal bases, whose data, how they are
destroyed and how messengers and mailings are used; the bot says what pressing the button
means; a placeholder operator address is warned about; «Удалить мои данные» is one click."""

from __future__ import annotations

import uuid

import httpx
import pytest

from okno.platform import database
from okno.platform.erasure import retention
from okno.platform.staff.roles import Role
from tests.chat_support import Client
from tests.conftest import ServerProcess, staff_client
from tests.test_destruction_files import output_of
from tests.test_portal import make_person, portal_from_chat


async def test_the_policy_states_bases_subjects_destruction_and_mailings(base_url) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http:
        policy = (await http.get("/policy")).text
    for words in (
        "Правовые основания обработки",
        "п. 1 ч. 1 ст. 6",
        "Категории субъектов",
        "Уничтожение:",
        "перезаписываются",
        "Сообщения в мессенджерах и рассылки",
        "только при вашем отдельном согласии на получение рекламы",
    ):
        assert words in policy, words


async def test_the_bot_says_pressing_the_button_is_consent_after_reading_the_policy(
    base_url, supervisor
) -> None:
    client = await Client.open(base_url)
    ack = await client.say("Здравствуйте")
    await supervisor.open_conversation(ack["conversation"])
    await supervisor.send(type="offer_consent", conversation=ack["conversation"], purpose="support")
    offer = await client.message(author={"kind": "bot", "name": None})
    assert (
        "Нажимая кнопку «Даю согласие», вы подтверждаете, что ознакомились с политикой"
        in (offer["text"])
    )
    assert "даёте согласие на обработку персональных данных" in offer["text"]
    assert offer["links"][0]["label"] == "Политика обработки персональных данных"
    assert offer["buttons"][0]["label"] == "Даю согласие"
    await client.close()


async def test_a_placeholder_operator_address_is_warned_about_until_it_is_set(
    server, database_url, make_staff
) -> None:
    # The suite's server runs with the defaults: the placeholder address.
    started = output_of(server).read_text()
    assert "ВНИМАНИЕ: Адрес оператора не указан (OKNO_OPERATOR_ADDRESS)" in started
    admin = await make_staff(Role.ADMIN)
    operator = await make_staff(Role.OPERATOR)
    seen = {}
    for user in (admin, operator):
        http = await staff_client(server.url, user.login)
        seen[user.role] = (await http.get("/admin")).text
        await http.aclose()
    assert "Адрес оператора не указан" in seen["admin"]
    assert "Адрес оператора не указан" not in seen["operator"]

    configured = ServerProcess(
        database_url,
        OKNO_OPERATOR_ADDRESS="123456, г. Тверь, ул. Советская, д. 1",
        OKNO_OPERATOR_NAME="ООО «Окно»",
    )
    try:
        assert "ВНИМАНИЕ" not in output_of(configured).read_text()
        http = await staff_client(configured.url, admin.login)
        assert "Адрес оператора не указан" not in (await http.get("/admin")).text
        await http.aclose()
    finally:
        configured.stop()


@pytest.fixture
async def dpo(base_url, make_staff):
    user = await make_staff(Role.DPO)
    client = await staff_client(base_url, user.login)
    yield client
    await client.aclose()


async def test_delete_my_data_is_one_click_and_ends_in_destruction_within_30_days(
    base_url, supervisor, db
) -> None:
    person = await make_person(base_url, supervisor, phone="+7 912 345-67-03")
    subject = uuid.UUID(person.subject_id)
    http = await portal_from_chat(base_url, person)
    page = (await http.get("/me/requests")).text
    assert 'action="/me/delete"' in page
    assert "в срок до 30 дней" in page
    clicked = await http.post("/me/delete", data={"_csrf_token": http.csrf})
    assert clicked.status_code == 303, clicked.text
    async with database.acquire() as conn:
        request = await conn.fetchrow(
            "SELECT id, kind, details, due_at - received_at AS term FROM rights_request"
            " WHERE subject_id = $1",
            subject,
        )
        live = await conn.fetchval(
            "SELECT count(*) FROM consent_event g WHERE g.subject_id = $1 AND g.kind = 'given'"
            " AND NOT EXISTS (SELECT 1 FROM consent_event w WHERE w.given_id = g.id)",
            subject,
        )
        unblocked = await conn.fetchval(
            "SELECT count(*) FROM subject_field WHERE subject_id = $1 AND blocked_at IS NULL",
            subject,
        )
    assert request["kind"] == "consent_withdrawn"
    assert request["term"].days == 30
    assert live == 0
    assert unblocked == 0, "processing stops at once"
    assert f"Запрос № {request['id']} принят" in (await http.get(clicked.headers["location"])).text
    again = await http.post("/me/delete", data={"_csrf_token": http.csrf})
    assert again.headers["location"] == clicked.headers["location"], "a second click files nothing"

    # Nobody acted in time: the retention job destroys everything on the term's last day.
    async with database.acquire() as conn:
        due = await conn.fetchval("SELECT due_at FROM rights_request WHERE id = $1", request["id"])
    await retention.run("cli", now=due)
    async with database.acquire() as conn:
        destroyed = await conn.fetchval("SELECT destroyed_at FROM subject WHERE id = $1", subject)
        fields = await conn.fetchval(
            "SELECT count(*) FROM subject_field WHERE subject_id = $1", subject
        )
        status = await conn.fetchval(
            "SELECT status FROM rights_request WHERE id = $1", request["id"]
        )
        rewritten = await conn.fetchval(
            "SELECT bool_and(c.done_at IS NOT NULL) FROM erasure_compaction c"
            " JOIN destruction_act a ON a.id = c.act_id WHERE a.subject_id = $1",
            subject,
        )
    assert destroyed is not None
    assert fields == 0
    assert status == "done"
    assert rewritten, "the run rewrote the tables once, after its acts"
    await http.aclose()
    await person.client.close()


async def test_the_access_answer_gives_the_messages_their_basis_and_the_measures(
    base_url, supervisor, dpo
) -> None:
    person = await make_person(base_url, supervisor, phone="+7 912 345-67-04")
    await person.client.say("Где мой заказ номер сорок два?")
    await supervisor.say(person.conversation, "Заказ передан в доставку")
    await supervisor.say(person.conversation, "служебная заметка", internal=True)
    http = await portal_from_chat(base_url, person)
    filed = await http.post("/me/requests", data={"kind": "access", "_csrf_token": http.csrf})
    assert filed.status_code == 303, filed.text
    request_id = int(filed.headers["location"].split("filed=")[1])
    for step in ("review", "approved"):
        await dpo.post(
            f"/admin/dpo/requests/{request_id}/transition",
            data={"to": step, "_csrf_token": dpo.csrf},
        )
    answer = await dpo.post(
        f"/admin/dpo/requests/{request_id}/execute",
        data={"confirm": "yes", "_csrf_token": dpo.csrf},
    )
    assert answer.status_code == 200, answer.text
    data = answer.json()
    texts = [(m["author"], m["text"]) for m in data["messages"]["items"]]
    assert ("вы", "Где мой заказ номер сорок два?") in texts
    assert any(text == "Заказ передан в доставку" and author != "вы" for author, text in texts)
    assert "служебная заметка" not in str(texts)
    assert data["messages"]["legal_basis_text"].startswith("152-ФЗ, ст. 6 ч. 1 п. 5")
    assert "ст. 18.1" in data["measures"]

    made = await http.post("/me/export", data={"_csrf_token": http.csrf})
    assert made.status_code == 303
    page = (await http.get("/me/export")).text
    link = page.split('href="/me/export/')[1].split('"')[0]
    exported = (await http.get(f"/me/export/{link}")).text
    assert "Переписка в чате: тексты сообщений и вложения" in exported
    assert "ст. 6 ч. 1 п. 5" in exported
    assert "ст. 18.1" in exported
    await http.aclose()
    await person.client.close()


async def test_a_published_review_hides_names_and_contacts_in_its_text(
    base_url, supervisor
) -> None:
    from tests.test_reviews import resolved_and_rated

    client = await Client.open(base_url)
    ack = await client.say("вопрос")
    await supervisor.open_conversation(ack["conversation"])
    choice = await resolved_and_rated(
        client,
        supervisor,
        ack["conversation"],
        "Спасибо Ивану Петровскому за помощь, пишите ivan.petrovsky@example.ru",
    )
    await client.send(type="button", seq=choice["seq"], button=choice["buttons"][0]["id"])
    await client.message(text="Отзыв опубликован без имени. Спасибо!")
    async with httpx.AsyncClient(base_url=base_url) as public:
        page = (await public.get("/reviews")).text
    assert "Спасибо [скрыто] [скрыто] за помощь, пишите [скрыто]" in page
    assert "Петровск" not in page
    assert "ivan.petrovsky" not in page
    await client.close()
