"""The chat bot's own flows. After an operator resolves a conversation the bot asks whether
the question was answered; "no" reopens it."""

from __future__ import annotations

from okno.platform import database
from okno.platform.chat import buttons, notify, service
from okno.platform.chat.visitors import Visitor

ASK_RESOLVED = "Ваш вопрос решён?"
RESOLVED_BUTTONS = [
    {"id": "resolved:yes", "label": "Да, спасибо"},
    {"id": "resolved:no", "label": "Нет, остались вопросы"},
]


async def ask_if_resolved(conversation_id: int) -> None:
    await service.bot_message(conversation_id, ASK_RESOLVED, RESOLVED_BUTTONS)


async def _answered(visitor: Visitor, conversation_id: int, seq: int, button: str) -> None:
    async with database.transaction():
        conn = database.connection()
        # The question is answered once: its buttons go away for every tab.
        version = await conn.fetchval(
            "UPDATE conversation SET last_version = last_version + 1 WHERE id = $1"
            " RETURNING last_version",
            conversation_id,
        )
        await conn.execute(
            "UPDATE message SET buttons = '[]', version = $3"
            " WHERE conversation_id = $1 AND seq = $2",
            conversation_id,
            seq,
            version,
        )
    await notify.changed(conversation_id, version)
    if button == "resolved:no":
        await service.reopen_by_client(conversation_id)
    else:
        await service.bot_message(conversation_id, "Спасибо! Рады были помочь.", [])


buttons.register("resolved", _answered)
