"""Reviews (CSAT) after a resolved conversation, published only as the client chooses.

A review is published anonymously, or with a name only under a dissemination consent
(152-FZ Art. 10.1) in which the client chose what may be shown (their first name, or its
initial). The name is worked out from the live consent whenever the page is shown, so a
withdrawal removes it at once.

The text itself is never disseminated as written: contacts are masked when it is saved, and
whenever the page is shown every word that reads as a name (a capitalised word inside a
sentence, and any part of the client's own name, phone or e-mail) is shown as «[скрыто]».
So whatever the client wrote about themselves or about other people, the page carries no PD
in its text; the dissemination consent only ever covers the author's name under it.
"""

from __future__ import annotations

import re
from typing import Any

from okno.platform import database
from okno.platform.chat import buttons, service
from okno.platform.chat.errors import ChatError
from okno.platform.consent import documents
from okno.platform.consent import service as consent
from okno.platform.pd_detect import find_contacts, mask
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action, ActorKind
from okno.platform.processing_log.schemas import LogEntry
from okno.platform.reviews import queries
from okno.platform.reviews.tables import Review
from okno.platform.subjects.tables import SubjectField

PURPOSE = "reviews"
SHOW = {"first": "только имя", "initial": "только первую букву имени"}
HIDDEN = "[скрыто]"
# A word that starts with a capital letter (Cyrillic or Latin), possibly hyphenated.
CAPITALISED = re.compile(r"\b[A-ZА-ЯЁ][\w-]*", re.UNICODE)
SENTENCE_END = re.compile(r"[.!?…]\s*$")


async def ask_rating(conversation_id: int) -> None:
    await service.bot_message(
        conversation_id,
        "Оцените, пожалуйста, как мы помогли: от 1 до 5.",
        [{"id": f"rate:{n}", "label": "★" * n} for n in range(1, 6)],
    )


async def _rated(click: buttons.Press) -> None:
    rating = int(click.button.split(":")[1])
    async with database.acquire() as conn:
        subject_id = await conn.fetchval(queries.CONVERSATION_SUBJECT, click.conversation)
    review = Review(
        conversation_id=click.conversation,
        subject_id=subject_id,
        question_seq=click.seq,
        rating=rating,
    )
    # A second click on the same question's stars changes nothing: the first rating stands.
    await (
        Review.insert(review)
        .on_conflict(target=(Review.conversation_id, Review.question_seq), action="DO NOTHING")
        .run()
    )
    await service.retire_buttons(click.conversation, click.seq, chosen=click.button)
    await service.bot_message(
        click.conversation,
        "Спасибо за оценку! Если хотите, напишите пару слов — отзыв можно будет опубликовать.",
        [],
        form={
            "kind": "review",
            "field": "review",
            "label": "Отзыв",
            "input": "textarea",
            "review_seq": click.seq,
            "done": False,
        },
    )


async def submit_text(conversation_id: int, seq: int, form: dict[str, Any], text: str) -> None:
    """The review's text: contacts are masked (it may become public), then ask how to publish."""
    body = text.strip()[:2000]
    body = mask(body, find_contacts(body))
    saved = (
        await Review.update({Review.body: body})
        .where(Review.conversation_id == conversation_id, Review.question_seq == form["review_seq"])
        .returning(Review.id, Review.subject_id)
        .run()
    )
    if not saved:
        raise ChatError("not_found", "отзыв не найден")
    review_id = saved[0]["id"]
    # The review's subject is the conversation's: a name the client gave (and nobody blocked)
    # may be shown under it, with their consent.
    has_name = await SubjectField.exists().where(
        SubjectField.subject_id == saved[0]["subject_id"],
        SubjectField.field == "name",
        SubjectField.blocked_at.is_null(),
    )
    await service.retire_buttons(
        conversation_id, seq, form={**form, "done": True, "display": "отзыв сохранён"}
    )
    choices = [{"id": f"review:anonymous:{review_id}", "label": "Опубликовать анонимно"}]
    if has_name:
        choices.append({"id": f"review:named:{review_id}", "label": "Опубликовать с именем"})
    choices.append({"id": f"review:private:{review_id}", "label": "Не публиковать"})
    await service.bot_message(conversation_id, "Опубликовать отзыв на странице отзывов?", choices)


async def _publication(click: buttons.Press) -> None:
    _, choice, review_id = click.button.split(":")[:3]
    review = int(review_id)
    if choice == "named":
        await _offer_dissemination(click.conversation, review)
    elif choice in ("first", "initial"):
        await _publish_named(click, review, choice)
    else:
        await _set_publication(click.conversation, review, choice)
        await service.bot_message(
            click.conversation,
            "Отзыв опубликован без имени. Спасибо!"
            if choice == "anonymous"
            else "Хорошо, отзыв не будет опубликован.",
            [],
        )
    await service.retire_buttons(click.conversation, click.seq, chosen=click.button)


async def _offer_dissemination(conversation_id: int, review_id: int) -> None:
    document = await documents.current_for_purpose(PURPOSE)
    if document is None:
        raise ChatError("unavailable", "документ о согласии на распространение не опубликован")
    await service.bot_message(
        conversation_id,
        "Чтобы показать ваше имя под отзывом, нужно отдельное согласие на распространение"
        " персональных данных. Выберите, что можно показывать; остальное показано не будет.",
        [
            {"id": f"review:first:{review_id}:{document.version}", "label": "Показывать имя"},
            {
                "id": f"review:initial:{review_id}:{document.version}",
                "label": "Только первую букву",
            },
            {"id": f"review:anonymous:{review_id}", "label": "Лучше анонимно"},
        ],
        links=[{"label": document.title, "url": document.stable_url}],
    )


async def _publish_named(click: buttons.Press, review_id: int, show: str) -> None:
    version = int(click.button.split(":")[3])
    document = await documents.get("dissemination-reviews", version)
    if document is None:
        raise ChatError("not_found", "эта версия документа не найдена")
    async with database.transaction():
        conn = database.connection()
        review = (
            await Review.select(Review.subject_id)
            .where(Review.id == review_id, Review.conversation_id == click.conversation)
            .first()
            .run()
        )
        if review is None:
            raise ChatError("not_found", "отзыв не найден")
        subject_id = review["subject_id"]
        proof = consent.Proof(
            channel=click.channel,
            control=f"button:{SHOW[show]}",
            ip=click.ip,
            user_agent=click.user_agent,
        )
        consent_id = await consent.give(conn, subject_id, document, proof, details={"show": show})
        await Review.update(
            {
                Review.publication: "named",
                Review.consent_id: consent_id,
                Review.published_at: database.NOW,
            }
        ).where(Review.id == review_id)
        await processing_log.record(
            LogEntry(
                action=Action.DISSEMINATION,
                actor_kind=ActorKind.SUBJECT,
                subject_id=subject_id,
                fields=("name",),
                purpose=PURPOSE,
                legal_basis=f"consent:{consent_id}",
                reason=f"публикация отзыва: {SHOW[show]}",
            )
        )
    await service.bot_message(
        click.conversation,
        "Отзыв опубликован с вашим именем. Убрать имя можно в любой момент, отозвав согласие в"
        " разделе «Мои данные».",
        [],
    )


async def _set_publication(conversation_id: int, review_id: int, publication: str) -> None:
    published_at = None if publication == "private" else database.NOW
    updated = (
        await Review.update(
            {
                Review.publication: publication,
                Review.consent_id: None,
                Review.published_at: published_at,
            }
        )
        .where(Review.id == review_id, Review.conversation_id == conversation_id)
        .returning(Review.id)
        .run()
    )
    if not updated:
        raise ChatError("not_found", "отзыв не найден")


async def published(limit: int = 100) -> list[dict[str, Any]]:
    """Published reviews; a name is shown only while its dissemination consent is in force."""
    async with database.acquire() as conn:
        rows = await conn.fetch(queries.PUBLISHED, limit)
    return [
        {
            "rating": r["rating"],
            "body": public_text(r["body"], [r["name"], r["phone"], r["email"]]),
            "published_at": r["published_at"],
            "author": _display(r["name"], r["show"]),
        }
        for r in rows
    ]


def public_text(body: str, own: list[str | None]) -> str:
    """The review's text as the public page shows it: contacts, the author's own values and
    every capitalised word that does not open a sentence (names of people, mostly) hidden."""
    text = mask(body, find_contacts(body), HIDDEN)
    parts = sorted(
        {part for value in own if value for part in re.split(r"\s+", value) if len(part) > 1},
        key=len,
        reverse=True,
    )
    for part in parts:
        text = re.sub(re.escape(part), HIDDEN, text, flags=re.IGNORECASE)
    pieces = []
    last = 0
    for match in CAPITALISED.finditer(text):
        before = text[: match.start()]
        opens = not before.strip() or SENTENCE_END.search(before) is not None
        pieces.append(text[last : match.start()])
        pieces.append(match.group(0) if opens else HIDDEN)
        last = match.end()
    pieces.append(text[last:])
    return "".join(pieces)


def _display(name: str | None, show: str | None) -> str:
    if not name or show is None:
        return "Аноним"
    first = name.split()[0]
    return first if show == "first" else f"{first[0]}."


buttons.register("rate", _rated)
buttons.register("review", _publication)
