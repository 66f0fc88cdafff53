"""What the DPO console gets from okno.platform.rights: its pages' data, typed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from okno.platform.erasure.acts import Act
from okno.platform.rights.blocking import State
from okno.platform.rights.requests import Request


class Event(msgspec.Struct, frozen=True):
    """One step of a request's history; staff by pseudonym."""

    at: datetime
    actor_kind: str
    from_status: str | None
    to_status: str
    note: str | None
    notice_to_subject: str | None
    actor_pseudonym: str | None


class ProfileField(msgspec.Struct, frozen=True):
    """A subject's profile field as the DPO sees it: its name and terms, never its value."""

    field: str
    purpose: str | None
    collected_at: datetime
    retain_until: datetime | None
    blocked_at: datetime | None


class Subject(msgspec.Struct, frozen=True):
    id: uuid.UUID
    created_at: datetime
    blocked_at: datetime | None
    destroyed_at: datetime | None


class RequestPage(msgspec.Struct, frozen=True):
    request: Request
    history: list[Event]
    state: State | None  # the subject's blocking, once the subject is known
    profile: list[ProfileField]
    acts: list[Act]  # the destruction acts the request's execution made


class SubjectPage(msgspec.Struct, frozen=True):
    subject: Subject
    profile: list[ProfileField]
    conversation: int | None
    requests: list[Request]
    acts: list[Act]


class Executed(msgspec.Struct, frozen=True):
    """What executing a request did: ``action`` (handling.action_of), the act of a destruction,
    the Art. 14 p.7 answer of an access request."""

    action: str
    act_id: int | None = None
    answer: dict[str, Any] | None = None


class LogFilter(msgspec.Struct, frozen=True):
    """The processing log's search; an empty text means any."""

    start: datetime
    end: datetime  # exclusive
    limit: int
    subject_id: uuid.UUID | None = None
    action: str = ""
    actor_kind: str = ""
    actor_id: str = ""
    purpose: str = ""


class LogRow(msgspec.Struct, frozen=True):
    id: int
    at: datetime
    actor_kind: str
    actor_id: str | None
    subject_id: uuid.UUID | None
    action: str
    categories: list[str]
    fields: list[str]
    purpose: str | None
    legal_basis: str | None
    request_id: int | None
    reason: str | None
