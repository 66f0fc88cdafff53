"""What the DPO console gets from okno.platform.rights: its pages' data, typed."""

from __future__ import annotations

import uuid
from datetime import datetime

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


class Operator(msgspec.Struct, frozen=True):
    name: str
    address: str


class PersonalDatum(msgspec.Struct, frozen=True):
    """A profile field's value with its source, purpose, basis and term (times in ISO 8601)."""

    field: str
    label: str
    value: str
    source: str | None
    purpose: str | None
    legal_basis: str | None
    collected_at: str
    retain_until: str | None


class Correspondence(msgspec.Struct, frozen=True):
    """A message the subject wrote or was answered with; staff by role and pseudonym."""

    at: str
    author: str
    text: str
    attachment: str | None
    edited_at: str | None


class Messages(msgspec.Struct, frozen=True):
    items: list[Correspondence]
    purpose: str
    legal_basis: str
    legal_basis_text: str


class ConsentGiven(msgspec.Struct, frozen=True):
    id: int
    purpose: str
    given_at: str
    channel: str
    withdrawn_at: str | None


class AccessAnswer(msgspec.Struct, frozen=True):
    """The answer to an access request (152-FZ Art. 14 p.7): the information the law lists and
    the PD themselves, as the JSON file the DPO sends the subject."""

    processed: bool
    operator: Operator
    processor: str | None
    personal_data: list[PersonalDatum]
    messages: Messages
    consents: list[ConsentGiven]
    methods: str
    access: str
    cross_border_transfer: str
    measures: str
    rights: str
    generated_at: str


class Executed(msgspec.Struct, frozen=True):
    """What executing a request did: ``action`` (handling.action_of), the act of a destruction,
    the Art. 14 p.7 answer of an access request."""

    action: str
    act_id: int | None = None
    answer: AccessAnswer | None = None


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
