"""The chat bot's own flows. After an operator resolves a conversation the bot asks whether
the question was answered; "no" reopens it. When a client's conversation starts waiting
outside its team's working hours, the bot says so, once per wait, with the next opening time.
(Within hours with nobody online, the ``state`` frame's ``availability`` tells the client.)"""

from __future__ import annotations

from okno.platform import database
from okno.platform.chat import buttons, queries, routing, service
from okno.platform.chat.errors import ChatError
from okno.platform.chat.tables import Conversation
from okno.platform.consent import chat_flow, fields
from okno.platform.consent import service as consent
from okno.platform.hours import service as hours
from okno.platform.reviews.service import ask_rating
from okno.platform.subjects.fields import FIELDS

ASK_RESOLVED = "Ваш вопрос решён?"
RESOLVED_BUTTONS = [
    {"id": "resolved:yes", "label": "Да, спасибо"},
    {"id": "resolved:no", "label": "Нет, остались вопросы"},
]


CLOSED_PREFIX = "Сейчас нерабочее время."
CLOSED = (
    CLOSED_PREFIX + " Операторы ответят {opening}. Ваше сообщение сохранено и ждёт в очереди;"
    " страницу можно закрыть — ответ появится в этом чате."
)
CONTACTS_BUTTON = {"id": "offline:contacts", "label": "Оставить e-mail для ответа"}
CONTACTS_NEED_CONSENT = "Чтобы оставить e-mail для ответа, нужно ваше согласие."
ASK_EMAIL = "Укажите e-mail: оператор ответит в этом чате и, если нужно, напишет на почту."


async def tell_if_closed(conversation_id: int) -> bool:
    """The auto-reply for a conversation waiting while its team is closed; True if sent."""
    async with database.acquire() as conn:
        row = await conn.fetchrow(queries.WAITING_AND_TOLD, conversation_id, CLOSED_PREFIX)
    if row is None or row["told"]:
        return False
    now = await hours.availability(row["team_id"])
    if now.open:
        return False
    await service.bot_message(
        conversation_id, CLOSED.format(opening=now.next_opening), [CONTACTS_BUTTON]
    )
    return True


async def _leave_contacts(click: buttons.Press) -> None:
    """«Оставить e-mail для ответа» under the after-hours reply: contacts only under consent.
    Without it the bot offers consent first (the button stays for after it); with it, a
    one-field form asks for the e-mail, saved and logged as any field the client fills."""
    if click.button != CONTACTS_BUTTON["id"]:
        raise ChatError("not_found", "эта кнопка больше не действует")
    conversation = (
        await Conversation.select(Conversation.subject_id)
        .where(Conversation.id == click.conversation)
        .first()
        .run()
    )
    assert conversation is not None  # the press was checked against one of its messages
    async with database.acquire() as conn:
        consented = (
            await consent.active(conn, conversation["subject_id"], chat_flow.SUPPORT) is not None
        )
    if not consented:
        await chat_flow.offer(click.conversation, chat_flow.SUPPORT, notice=CONTACTS_NEED_CONSENT)
        return
    await service.retire_buttons(click.conversation, click.seq, chosen=click.button)
    await service.bot_message(
        click.conversation,
        ASK_EMAIL,
        [],
        form={
            "field": "email",
            "label": FIELDS["email"].label,
            "input": fields.INPUTS["email"],
            "purpose": chat_flow.SUPPORT,
            "done": False,
        },
    )


buttons.register("offline", _leave_contacts)


async def ask_if_resolved(conversation_id: int) -> None:
    await service.bot_message(conversation_id, ASK_RESOLVED, RESOLVED_BUTTONS)


async def _answered(click: buttons.Press) -> None:
    await service.retire_buttons(click.conversation, click.seq, chosen=click.button)
    if click.button == "resolved:no":
        await service.reopen_by_client(click.conversation)
        await routing.assign_waiting()
        await tell_if_closed(click.conversation)
    else:
        await ask_rating(click.conversation)


buttons.register("resolved", _answered)
