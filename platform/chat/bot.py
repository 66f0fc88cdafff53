"""The chat bot's own flows. After an operator resolves a conversation the bot asks whether
the question was answered; "no" reopens it."""

from __future__ import annotations

from okno.platform.chat import buttons, service

ASK_RESOLVED = "Ваш вопрос решён?"
RESOLVED_BUTTONS = [
    {"id": "resolved:yes", "label": "Да, спасибо"},
    {"id": "resolved:no", "label": "Нет, остались вопросы"},
]


async def ask_if_resolved(conversation_id: int) -> None:
    await service.bot_message(conversation_id, ASK_RESOLVED, RESOLVED_BUTTONS)


async def _answered(click: buttons.Press) -> None:
    await service.retire_buttons(click.conversation, click.seq)
    if click.button == "resolved:no":
        await service.reopen_by_client(click.conversation)
    else:
        from okno.platform.reviews.service import ask_rating

        await ask_rating(click.conversation)


buttons.register("resolved", _answered)
