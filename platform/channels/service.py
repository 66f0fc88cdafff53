"""Channels: connecting a MAX bot or a VK community, and what okno does with each update.

A messenger user becomes a chat visitor of their own (the chat keys conversations by visitor),
so their messages take the web chat's path: the same conversation, routing, masking before
consent, consent flow and processing log. An update is stored with the channel's own id as
its idempotency key, in the same transaction as everything it causes.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from typing import Any, TypeAlias

import asyncpg
import msgspec

from okno.platform import database
from okno.platform.audit import service as audit
from okno.platform.channels import queries
from okno.platform.channels.errors import ChannelRefused, WebhookRefused
from okno.platform.channels.max_bot import OFFICIAL_URL as MAX_URL
from okno.platform.channels.max_bot import MaxBot
from okno.platform.channels.schemas import (
    KIND_LABELS,
    ChannelForm,
    ChannelHealth,
    Delivery,
    Inbound,
)
from okno.platform.channels.secrets import seal, unseal
from okno.platform.channels.tables import Channel
from okno.platform.channels.vk_bot import OFFICIAL_URL as VK_URL
from okno.platform.channels.vk_bot import VkBot
from okno.platform.chat import buttons, notify
from okno.platform.chat import service as chat
from okno.platform.chat.access import visible_conversation
from okno.platform.chat.compliance import Actor, entries
from okno.platform.chat.scope import Scope
from okno.platform.chat.visitors import Visitor
from okno.platform.consent import chat_flow
from okno.platform.errors import NotFound, Refused
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action
from okno.platform.secret_key import secret_key
from okno.platform.settings import get_settings
from okno.platform.teams.tables import Topic

OFFICIAL_URLS = {"max": MAX_URL, "vk": VK_URL}
# Who runs each messenger's servers: a message through them is a provision to that operator
# (152-FZ Art. 3 p.6), named in the policy and in the client's «кто обрабатывал».
OPERATORS = {
    "max": "ООО «Коммуникационная платформа» (мессенджер MAX), Россия",
    "vk": "ООО «ВК» (ВКонтакте), Россия",
}
LEGAL_BASES = {
    "152-fz:6.1.5": "ответ на обращение клиента (ст. 6 ч. 1 п. 5 152-ФЗ)",
    "152-fz:6.1.1": "согласие клиента (ст. 6 ч. 1 п. 1 152-ФЗ)",
}
RECEIVE_MODES = {"poll": "опрос (long polling)", "webhook": "вебхук"}
NO_TEXT = "[сообщение без текста: вложения из мессенджеров пока не принимаются]"
MAX_TEXT = 4000
CLIENT_IDS = uuid.UUID("6f6b6e6f-6368-616e-6e65-6c0000000000")
MASKED_WHAT = {"phone": "номер телефона", "email": "адрес почты"}
PROVISION_NOTICE = "Сообщения в этом чате проходят через серверы {operator}."


Bot: TypeAlias = MaxBot | VkBot


class ChannelRow(msgspec.Struct, frozen=True):
    id: int
    kind: str
    api_url: str
    topic_id: int | None
    legal_basis: str
    secrets: dict[str, str]

    def bot(self) -> Bot:
        return (
            MaxBot(self.api_url, self.secrets)
            if self.kind == "max"
            else VkBot(self.api_url, self.secrets)
        )


def row_of(record: asyncpg.Record | dict[str, Any]) -> ChannelRow:
    return ChannelRow(
        record["id"],
        record["kind"],
        record["api_url"],
        record["topic_id"],
        record["legal_basis"],
        unseal(bytes(record["secrets"])),
    )


async def get(channel_id: int) -> ChannelRow:
    found = (
        await Channel.select(
            Channel.id,
            Channel.kind,
            Channel.api_url,
            Channel.topic_id,
            Channel.legal_basis,
            Channel.secrets,
        )
        .where((Channel.id == channel_id) & Channel.enabled.eq(True))
        .first()
        .run()
    )
    if found is None:
        raise NotFound("нет такого канала")
    return row_of(found)


# ---------------------------------------------------------------- the console


async def connect(actor: audit.Actor, form: ChannelForm) -> int:
    """An admin connects a channel; its secrets are sealed at once and never shown again."""
    if form.kind not in KIND_LABELS:
        raise ChannelRefused("выберите MAX или ВКонтакте")
    name = form.name.strip()
    if not 1 <= len(name) <= 100:
        raise ChannelRefused("название канала — от 1 до 100 символов")
    if form.receive not in RECEIVE_MODES:
        raise ChannelRefused("выберите, как получать сообщения: опрос или вебхук")
    token = form.token.strip()
    if not 10 <= len(token) <= 500:
        raise ChannelRefused("вставьте токен бота (MAX) или ключ доступа сообщества (VK)")
    secrets = {"token": token}
    if form.kind == "vk":
        if not form.group_id.strip().isdigit():
            raise ChannelRefused("укажите номер сообщества ВКонтакте (только цифры)")
        secrets["group_id"] = form.group_id.strip()
    if form.receive == "webhook":
        if not 8 <= len(form.webhook_secret.strip()) <= 256:
            raise ChannelRefused("для вебхука задайте секрет не короче 8 символов")
        secrets["webhook_secret"] = form.webhook_secret.strip()
        if form.kind == "vk":
            if not 1 <= len(form.confirmation.strip()) <= 100:
                raise ChannelRefused("вставьте строку подтверждения из настроек Callback API")
            secrets["confirmation"] = form.confirmation.strip()
    api_url = form.api_url.strip() or OFFICIAL_URLS[form.kind]
    if not api_url.startswith(("https://", "http://")) or len(api_url) > 300:
        raise ChannelRefused("адрес API должен начинаться с https://")
    if form.topic is not None:
        topic = await Topic.select(Topic.id).where(Topic.id == form.topic).first().run()
        if topic is None:
            raise ChannelRefused("выберите направление из списка")
    async with database.transaction():
        rows = (
            await Channel.insert(
                Channel(
                    kind=form.kind,
                    name=name,
                    topic_id=form.topic,
                    api_url=api_url,
                    receive=form.receive,
                    secrets=seal(secrets),
                )
            )
            .returning(Channel.id)
            .run()
        )
        channel_id: int = rows[0]["id"]
        # The audit names what changed, never the secrets themselves.
        await audit.record(
            actor,
            audit.Entity.CHANNEL,
            channel_id,
            "подключён канал",
            None,
            {"вид": KIND_LABELS[form.kind], "название": name, "приём": form.receive},
        )
    return channel_id


async def disable(actor: audit.Actor, channel_id: int) -> None:
    async with database.transaction():
        rows = (
            await Channel.update({Channel.enabled: False})
            .where((Channel.id == channel_id) & Channel.enabled.eq(True))
            .returning(Channel.id)
            .run()
        )
        if not rows:
            raise NotFound("нет такого канала")
        await audit.record(actor, audit.Entity.CHANNEL, channel_id, "канал отключён")


async def health() -> list[ChannelHealth]:
    rows = (
        await Channel.select(
            Channel.id,
            Channel.kind,
            Channel.name,
            Channel.topic_id,
            Channel.receive,
            Channel.enabled,
            Channel.last_update_at,
            Channel.last_error,
            Channel.last_error_at,
        )
        .order_by(Channel.id)
        .run()
    )
    topics = {t["id"]: t["title"] for t in await Topic.select(Topic.id, Topic.title).run()}
    async with database.acquire() as conn:
        counts = {r["channel_id"]: r for r in await conn.fetch(queries.CHANNEL_QUEUE_COUNTS)}
    return [
        ChannelHealth(
            id=row["id"],
            kind=row["kind"],
            kind_label=KIND_LABELS[row["kind"]],
            name=row["name"],
            topic=topics.get(row["topic_id"]),
            receive=row["receive"],
            enabled=row["enabled"],
            last_update_at=row["last_update_at"],
            last_error=row["last_error"],
            last_error_at=row["last_error_at"],
            queued=counts[row["id"]]["queued"] if row["id"] in counts else 0,
            failed=counts[row["id"]]["failed"] if row["id"] in counts else 0,
            webhook_path=f"/hooks/{row['kind']}/{row['id']}",
        )
        for row in rows
    ]


async def deliveries(scope: Scope, conversation_id: int) -> list[Delivery]:
    """The delivery state of each message sent to a channel conversation (⏳ / ✓ / failed),
    for staff who may see the conversation."""
    await visible_conversation(scope, conversation_id)
    async with database.acquire() as conn:
        rows = await conn.fetch(queries.DELIVERIES, conversation_id)
    marks = {"queued": "⏳", "sent": "✓", "failed": "не доставлено"}
    return [
        Delivery(row["seq"], row["state"], marks[row["state"]], row["last_error"]) for row in rows
    ]


# ---------------------------------------------------------------- webhooks


def check_secret(channel: ChannelRow, sent: str | None) -> None:
    expected = channel.secrets.get("webhook_secret")
    if not expected or not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise WebhookRefused("неверный секрет вебхука")


# ---------------------------------------------------------------- receiving


def _visitor_hash(channel_id: int, external_id: str) -> bytes:
    """The identity's visitor key: keyed by the server's secret, so it is no cookie anyone
    could present (no browser ever holds the token it would be the hash of)."""
    key = secret_key(get_settings()).encode()
    return hmac.new(
        key, f"okno-channel|{channel_id}|{external_id}".encode(), hashlib.sha256
    ).digest()


async def receive(channel: ChannelRow, update: Inbound) -> bool:
    """Store one update exactly once and act on it; ``False``: it had been received before."""
    async with database.transaction():
        conn = database.connection()
        identity = await database.fetch_one(
            conn,
            queries.IDENTITY,
            channel.id,
            update.user_id,
            _visitor_hash(channel.id, update.user_id),
        )
        if identity["fresh"]:
            await conn.execute(queries.IDENTITY_VISITOR, identity["visitor_hash"], channel.topic_id)
        if (
            await conn.fetchval(
                queries.STORE_INBOUND, channel.id, update.update_key, identity["id"]
            )
            is None
        ):
            return False
        await conn.execute(queries.CHANNEL_HEARD, channel.id)
        visitor = Visitor(bytes(identity["visitor_hash"]), identity["subject_id"], channel.topic_id)
        if update.payload is not None:
            conversation = await _press(channel, visitor, update)
        else:
            conversation = await _message(conn, channel, identity, visitor, update)
        version = (
            await conn.fetchval(queries.CONVERSATION_VERSION, conversation)
            if conversation
            else None
        )
    if conversation is not None and version is not None:
        # The chat's own announcements went out before this transaction committed.
        await notify.changed(conversation, version)
    return True


async def _message(
    conn: asyncpg.Connection,
    channel: ChannelRow,
    identity: asyncpg.Record,
    visitor: Visitor,
    update: Inbound,
) -> int:
    text = (update.text or NO_TEXT)[:MAX_TEXT]
    if identity["subject_id"] is not None:
        conversation = await database.fetch_one(
            conn, queries.CONVERSATION_OF, identity["subject_id"]
        )
        asked = await conn.fetchval(queries.OPEN_FIELD_REQUEST, conversation["id"])
        if asked is not None:
            await _answer_field(conversation["id"], asked, text)
            return int(conversation["id"])
    client_id = uuid.uuid5(CLIENT_IDS, f"{channel.id}|{update.update_key}")
    sent = await chat.client_send(visitor, client_id, text)
    if identity["subject_id"] is None:
        subject_id = await conn.fetchval(queries.CONVERSATION_SUBJECT, sent.conversation)
        await conn.execute(queries.IDENTITY_SUBJECT, identity["id"], subject_id)
        await processing_log.record(
            *entries(
                Actor.subject(),
                subject_id,
                (Action.COLLECTION, Action.RECORDING, Action.STORAGE),
                ("messenger_id",),
                reason=f"первое сообщение через {KIND_LABELS[channel.kind]}",
            )
        )
        # The first answer: who carries the messages, why contacts were hidden, the offer.
        notice = PROVISION_NOTICE.format(operator=OPERATORS[channel.kind])
        if sent.masked:
            what = " и ".join(MASKED_WHAT[field] for field in sent.masked)
            notice += " " + chat_flow.MASKED_NOTICE.format(what=what).split(" Если")[0]
        await chat_flow.offer(sent.conversation, chat_flow.SUPPORT, notice=notice)
    elif sent.masked:
        await chat_flow.explain_masking(sent.conversation, sent.masked)
    return sent.conversation


async def _answer_field(conversation_id: int, seq: int, text: str) -> None:
    """The client's answer to the operator's request for a field (a phone, say)."""
    try:
        await chat_flow.submit_field(conversation_id, seq, text.strip())
    except Refused as refused:
        await chat.bot_message(conversation_id, f"Не получилось сохранить: {refused.message}", [])
        return
    await chat.bot_message(conversation_id, "Спасибо, сохранили.", [])


async def _press(channel: ChannelRow, visitor: Visitor, update: Inbound) -> int | None:
    """A press on an inline button okno sent: the web chat's button flows, by the same ids."""
    seq, _, button = (update.payload or "").partition("|")
    if visitor.subject_id is None or not seq.isdigit():
        return None
    conversation = await chat.client_conversation(visitor)
    if conversation is None:
        return None
    try:
        await buttons.press(
            buttons.Press(
                visitor, conversation, int(seq), button, channel.kind, ip=None, user_agent=None
            )
        )
    except Refused as refused:
        await chat.bot_message(conversation, refused.message[:1].upper() + refused.message[1:], [])
    return conversation
