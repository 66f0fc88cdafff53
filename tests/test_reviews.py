"""Reviews: a name is published only under a dissemination consent, and leaves with it."""

from __future__ import annotations

import uuid

import httpx

from okno.platform import database
from okno.platform.consent import service as consent
from tests.chat_support import Client, Staff, log_rows, subject_of
from tests.test_consent import offer_and_accept


async def resolved_and_rated(
    client: Client, supervisor: Staff, conversation: int, text: str
) -> dict:
    """The operator resolves; the client says yes, rates 5 and writes a review."""
    await supervisor.send(type="take", conversation=conversation)
    await supervisor.send(type="status", conversation=conversation, status="resolved")
    question = await client.message(text="Ваш вопрос решён?")
    await client.send(type="button", seq=question["seq"], button="resolved:yes")
    rating = await client.message(text="Оцените, пожалуйста, как мы помогли: от 1 до 5.")
    await client.send(type="button", seq=rating["seq"], button="rate:5")
    form = await client.message(
        text="Спасибо за оценку! Если хотите, напишите пару слов — отзыв можно будет опубликовать."
    )
    await client.send(type="field", seq=form["seq"], value=text)
    return await client.message(text="Опубликовать отзыв на странице отзывов?")


def reviews_page(base_url: str) -> str:
    return httpx.get(f"{base_url}/reviews").text


async def test_a_review_without_consent_is_published_anonymously(base_url, supervisor) -> None:
    client = await Client.open(base_url)
    ack = await client.say("вопрос")
    await supervisor.open_conversation(ack["conversation"])
    choice = await resolved_and_rated(
        client, supervisor, ack["conversation"], "Быстро помогли, пишите +7 916 111-22-33"
    )
    assert [b["label"] for b in choice["buttons"]] == ["Опубликовать анонимно", "Не публиковать"]
    await client.send(type="button", seq=choice["seq"], button=choice["buttons"][0]["id"])
    await client.message(text="Отзыв опубликован без имени. Спасибо!")
    page = reviews_page(base_url)
    assert "Быстро помогли, пишите [скрыто]" in page
    assert "111-22-33" not in page
    await client.close()


async def test_a_named_review_needs_dissemination_consent_and_loses_the_name_on_withdrawal(
    base_url, supervisor
) -> None:
    client = await Client.open(base_url)
    ack = await client.say("вопрос")
    conversation = ack["conversation"]
    await supervisor.open_conversation(conversation)
    await offer_and_accept(client, supervisor, conversation)
    await supervisor.send(type="request_field", conversation=conversation, field="name")
    request = await client.message(text="Оператор просит указать: Имя")
    first_name = "Зинаида" + "".join(
        "абвгдежзиклмнопрстуф"[int(c, 16)] for c in uuid.uuid4().hex[:5]
    )
    await client.send(type="field", seq=request["seq"], value=f"{first_name} Петрова")
    await client.message(
        seq=request["seq"], form={**request["form"], "done": True, "display": f"{first_name[0]}***"}
    )

    choice = await resolved_and_rated(client, supervisor, conversation, "Оператор — молодец")
    named = next(b for b in choice["buttons"] if b["label"] == "Опубликовать с именем")
    await client.send(type="button", seq=choice["seq"], button=named["id"])
    offer = await client.message(
        text="Чтобы показать ваше имя под отзывом, нужно отдельное согласие на распространение персональных данных. Выберите, что можно показывать; остальное показано не будет."
    )
    assert offer["links"][0]["url"].startswith("/consents/dissemination-reviews/v")
    assert first_name not in reviews_page(base_url)
    show_first = next(b for b in offer["buttons"] if b["label"] == "Показывать имя")
    await client.send(type="button", seq=offer["seq"], button=show_first["id"])
    await client.message(
        text="Отзыв опубликован с вашим именем. Убрать имя можно в любой момент, отозвав согласие в разделе «Мои данные»."
    )
    page = reviews_page(base_url)
    assert first_name in page
    assert "Петрова" not in page  # the client chose the first name only

    subject = uuid.UUID(await subject_of(conversation))
    async with database.transaction():
        conn = database.connection()
        given = await consent.active(conn, subject, "reviews")
        assert given is not None
        await consent.withdraw(
            conn, subject, given["id"], consent.Proof(channel="portal", control="portal:revoke")
        )
    page = reviews_page(base_url)
    assert first_name not in page
    assert "Оператор — молодец" in page
    rows = await log_rows(str(subject))
    assert ("dissemination", "subject", ["name"]) in rows
    assert ("blocking", "system", ["name"]) in rows
    await client.close()
