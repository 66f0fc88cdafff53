"""Unsubscribing: the «Отписаться» button under a chat mailing and the signed link in every
letter. Either withdraws the channel's advertising consent at once, with its proof, and counts
the unsubscription in the mailing's report; later mailings skip the subject.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import uuid

from piccolo.columns.combination import Combinable

from okno.platform import database
from okno.platform.chat import buttons, service
from okno.platform.chat.tables import Conversation
from okno.platform.consent import service as consent
from okno.platform.errors import NotFound
from okno.platform.mailings.service import PURPOSES, MailingError, one_delivery
from okno.platform.mailings.tables import MailingDelivery
from okno.platform.secret_key import secret_key
from okno.platform.settings import get_settings

UNSUBSCRIBE = "Отписаться"
UNSUBSCRIBE_PATH = "/unsubscribe/"


class LinkError(MailingError, NotFound):
    """An unsubscribe link okno did not sign: there is nothing behind it to show."""


def unsubscribe_token(mailing_id: int, subject_id: uuid.UUID) -> str:
    """The letter's own unsubscribe key: names the mailing and the subject, signed."""
    body = f"{mailing_id}.{subject_id.hex}"
    return f"{body}.{_signature(body)}"


def _signature(body: str) -> str:
    key = secret_key(get_settings()).encode()
    digest = hmac.new(key, f"unsubscribe\x00{body}".encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode()


def _from_token(token: str) -> tuple[int, uuid.UUID]:
    parts = token.split(".")
    if len(parts) == 3 and parts[0].isdigit() and len(parts[0]) < 19:
        body = f"{parts[0]}.{parts[1]}"
        if hmac.compare_digest(_signature(body), parts[2]):
            with contextlib.suppress(ValueError):
                return int(parts[0]), uuid.UUID(hex=parts[1])
    raise LinkError("ссылка для отписки недействительна")


async def _withdraw(
    subject_id: uuid.UUID, purpose: str, proof: consent.Proof, deliveries: Combinable
) -> None:
    """In the caller's transaction: the consent withdrawn (if still in force), and the first
    unsubscription from these deliveries kept, the one the report counts."""
    conn = database.connection()
    given = await consent.active(conn, subject_id, purpose)
    if given is not None:
        await consent.withdraw(conn, subject_id, given["id"], proof)
    await (
        MailingDelivery.update({MailingDelivery.unsubscribed_at: database.NOW})
        .where(deliveries & MailingDelivery.unsubscribed_at.is_null())
        .run()
    )


async def _pressed(click: buttons.Press) -> None:
    """The chat mailing's button: one click, and the bot confirms."""
    mailing_id = int(click.button.split(":", 1)[1])
    async with database.transaction():
        found = (
            await Conversation.select(Conversation.subject_id)
            .where(Conversation.id == click.conversation)
            .first()
            .run()
        )
        assert found is not None  # the button was pressed in this conversation
        subject_id: uuid.UUID = found["subject_id"]
        proof = consent.Proof(
            channel=click.channel,
            control=f"button:{UNSUBSCRIBE}",
            ip=click.ip,
            user_agent=click.user_agent,
        )
        await _withdraw(
            subject_id,
            PURPOSES["chat"],
            proof,
            (MailingDelivery.mailing_id == mailing_id) & (MailingDelivery.subject_id == subject_id),
        )
    await service.retire_buttons(click.conversation, click.seq, chosen=click.button)
    await service.bot_message(
        click.conversation,
        "Вы отписались от рекламных сообщений. Ответы на ваши вопросы это не затрагивает.",
        [],
    )


buttons.register("unsubscribe", _pressed)


async def check_link(token: str) -> bool:
    """Whether the link is genuine; ``True`` while its subject still has the consent."""
    _, subject_id = _from_token(token)
    async with database.acquire() as conn:
        return await consent.active(conn, subject_id, PURPOSES["email"]) is not None


async def by_link(token: str, ip: str | None, user_agent: str | None) -> None:
    """The letter's link: withdraws the e-mail advertising consent at once, with proof."""
    mailing_id, subject_id = _from_token(token)
    proof = consent.Proof(
        channel="portal", control=f"link:{UNSUBSCRIBE} (письмо)", ip=ip, user_agent=user_agent
    )
    async with database.transaction():
        await _withdraw(
            subject_id, PURPOSES["email"], proof, one_delivery(mailing_id, subject_id, "email")
        )
