"""What the chat's HTTP API answers (okno.portal's /api/chat, okno.admin's /api/staff)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec


class MessagePage(msgspec.Struct, frozen=True):
    """Older messages of one conversation, oldest first (each as the socket's ``message``)."""

    messages: list[dict[str, Any]]


class ConversationList(msgspec.Struct, frozen=True):
    """One box of the console: summaries as the socket's ``conversation`` frames."""

    conversations: list[dict[str, Any]]


class Tagged(msgspec.Struct, frozen=True):
    id: int
    tags: list[str]


class ProfileField(msgspec.Struct, frozen=True):
    name: str
    label: str
    value: str
    category: str


class ProfileConsent(msgspec.Struct, frozen=True):
    purpose: str
    name: str
    active: bool
    since: datetime | None


class FieldChoice(msgspec.Struct, frozen=True):
    name: str
    label: str


class Profile(msgspec.Struct, frozen=True):
    """The client's profile panel (docs/protocol.md, HTTP)."""

    subject_id: str
    label: str
    created_at: datetime
    fields: list[ProfileField]
    consents: list[ProfileConsent]
    requestable: list[FieldChoice]
    conversations: int


class Colleague(msgspec.Struct, frozen=True):
    id: int
    name: str
    presence: str
    teams: list[int]


class TeamChoice(msgspec.Struct, frozen=True):
    id: int
    name: str


class Directory(msgspec.Struct, frozen=True):
    """Colleagues and teams a conversation can be transferred to."""

    staff: list[Colleague]
    teams: list[TeamChoice]


class CannedReply(msgspec.Struct, frozen=True):
    id: int
    shortcut: str
    text: str
    shared: bool
    mine: bool


class SpecialMark(msgspec.Struct, frozen=True):
    conversation: int
    seq: int
    special: str
