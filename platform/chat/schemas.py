"""What the chat sends out: the objects and server frames of docs/protocol.md, and the answers
of its HTTP APIs (okno.portal's /api/chat, okno.admin's /api/staff, the DPO's special queue).

Each server frame is a Struct tagged by its ``type``, encoded once by ``frames.encode`` however
many sockets get it. A key the protocol leaves out when it has nothing to say is ``UNSET`` or,
for a whole frame, ``omit_defaults``; every other key is always there, ``null`` or not.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from okno.platform.reports.sla import SlaState

# ---------------------------------------------------------------- a message (``Message``)


class Author(msgspec.Struct, frozen=True):
    kind: str  # subject, staff, bot, system
    name: str | None  # an operator's display name; null for the client
    id: int | UnsetType | None = UNSET  # staff sockets only: the console tells its own by it


class Quote(msgspec.Struct, frozen=True):
    """The message replied to, as the reply shows it."""

    seq: int
    author: Author
    text: str


class Attachment(msgspec.Struct, frozen=True):
    """A stored file: the upload's answer, and a message's ``attachment``."""

    id: str
    name: str
    size: int
    type: str
    image: bool
    url: str


class Button(msgspec.Struct, frozen=True, omit_defaults=True):
    id: str
    label: str
    chosen: bool = False  # the client's answer, kept as its echo once the question is retired


class Link(msgspec.Struct, frozen=True):
    label: str
    url: str


class Form(msgspec.Struct, frozen=True):
    """A bot message's one-field form, as its flow stored it: a key it did not store stays
    absent (``display`` comes with the answer; destruction removes it again)."""

    field: str
    label: str
    input: str
    done: bool
    purpose: str | UnsetType | None = UNSET  # a PD field's purpose
    kind: str | UnsetType | None = UNSET  # "review": the review flow's text
    review_seq: int | UnsetType | None = UNSET
    display: str | UnsetType | None = UNSET  # the answer, masked


class WireMessage(msgspec.Struct, frozen=True):
    """A message as a socket or a history page shows it (docs/protocol.md, ``Message``)."""

    conversation: int
    seq: int
    version: int
    client_id: str
    author: Author
    text: str
    reply_to: Quote | None
    attachment: Attachment | None
    buttons: list[Button]
    links: list[Link]
    form: Form | None
    internal: bool
    created_at: datetime
    edited_at: datetime | None
    deleted: bool


class MessagePage(msgspec.Struct, frozen=True):
    """Older messages of one conversation, oldest first."""

    messages: list[WireMessage]


# ---------------------------------------------------------------- server frames


class ServerFrame(msgspec.Struct, tag_field="type"):
    pass


class MessageFrame(ServerFrame, tag="message"):
    message: WireMessage


class TopicChoice(msgspec.Struct, frozen=True):
    slug: str
    title: str


class TeamChoice(msgspec.Struct, frozen=True):
    id: int
    name: str


class Assignee(msgspec.Struct, frozen=True):
    id: int
    name: str


class ClientLabel(msgspec.Struct, frozen=True):
    subject_id: str
    label: str
    channel: str | None = None  # the messenger the client writes through (docs/channels.md)
    destroyed: bool = False  # the client's PD were destroyed: the conversation is closed for good


class LastMessage(msgspec.Struct, frozen=True):
    seq: int
    preview: str
    author_kind: str
    at: datetime


class ConversationSummary(ServerFrame, tag="conversation"):
    """A conversation as staff lists show it (docs/protocol.md, ``Conversation``)."""

    id: int
    status: str
    topic: TopicChoice | None
    assignee: Assignee | None
    team: TeamChoice | None
    client: ClientLabel
    last_message: LastMessage | None
    unread: int
    client_read_seq: int  # the client has read up to here: the console's ✓✓ after a reload
    tags: list[str]
    version: int
    created_at: datetime
    updated_at: datetime
    waiting_since: datetime | None = None  # in the queue since (unassigned, not resolved)
    snoozed_until: datetime | None = None  # out of the lists until then
    sla: SlaState | None = None  # against its targets while not resolved (reports.sla)


class ConversationList(msgspec.Struct, frozen=True):
    """One box of the console: the summaries the socket sends as ``conversation`` frames."""

    conversations: list[ConversationSummary]


class Operator(msgspec.Struct, frozen=True):
    name: str
    presence: str


class Availability(msgspec.Struct, frozen=True):
    """What a waiting client is told of its team (docs/protocol.md, ``state``)."""

    open: bool
    next_opening: str | None  # in words, while closed
    operators_online: bool


class State(ServerFrame, tag="state"):
    """The client's conversation as its chat shows it; before the first message, the lobby's."""

    conversation: int | None
    status: str | None
    topic: str | None
    topics: list[TopicChoice]
    operator: Operator | None
    queue_position: int | None
    staff_read_seq: int
    client_read_seq: int  # what this client has read: the rest is unread (the widget's badge)
    edit_window_seconds: int
    availability: Availability | None


class Ack(ServerFrame, tag="ack"):
    client_id: str
    conversation: int
    seq: int
    version: int


class Synced(ServerFrame, tag="synced", omit_defaults=True):
    version: int
    conversation: int | None = None  # staff sockets: which conversation is synced


class Read(ServerFrame, tag="read"):
    side: str
    seq: int


class Typing(ServerFrame, tag="typing"):
    side: str
    name: str | None  # an operator's display name; null for the client


class Viewer(msgspec.Struct, frozen=True):
    id: int
    name: str


class Viewers(ServerFrame, tag="viewers"):
    """Staff who have ``conversation`` open now (the receiver among them)."""

    conversation: int
    viewers: list[Viewer]


class ColleagueTyping(ServerFrame, tag="colleague_typing"):
    """Another staff member writes in ``conversation`` (staff sockets only)."""

    conversation: int
    id: int
    name: str


class AccessEnded(ServerFrame, tag="access_ended"):
    conversation: int


class Pong(ServerFrame, tag="pong"):
    pass


class Error(ServerFrame, tag="error", omit_defaults=True):
    code: str
    message: str
    client_id: str | None = None  # the refused frame's, where it had one
    conversation: int | None = None


# ---------------------------------------------------------------- the console's HTTP answers


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


class ConsolePreferences(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An operator's console notifications: a sound for each event, its volume, and desktop
    notifications (``desktop_details``: with the client's words, which may hold PD)."""

    sound_queue: bool = True  # a new chat in the queue
    sound_mine: bool = True  # a new message in one's own chats
    sound_transfer: bool = True  # a chat given to oneself
    volume: Annotated[int, msgspec.Meta(ge=0, le=100)] = 60
    desktop: bool = True
    desktop_details: bool = False


class BulkOutcome(msgspec.Struct, frozen=True):
    """One conversation of a bulk action: done, or why not."""

    id: int
    done: bool
    detail: str | None = None


class BulkResult(msgspec.Struct, frozen=True):
    outcomes: list[BulkOutcome]


class Colleague(msgspec.Struct, frozen=True):
    id: int
    name: str
    presence: str
    teams: list[int]


class Directory(msgspec.Struct, frozen=True):
    """Colleagues and teams a conversation can be transferred to."""

    staff: list[Colleague]
    teams: list[TeamChoice]


class FilterChoices(msgspec.Struct, frozen=True):
    """What the console's list filters offer: topics, teams and colleagues."""

    topics: list[TopicChoice]
    teams: list[TeamChoice]
    staff: list[Colleague]


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


# ---------------------------------------------------------------- the DPO's special-category queue


class PendingSpecial(msgspec.Struct, frozen=True):
    """A marked message awaiting the DPO's decision, without its content."""

    conversation_id: int
    seq: int
    label: str
    has_attachment: bool
    pseudonym: str | None  # who marked it
    special_flagged_at: datetime


class RevealedSpecial(msgspec.Struct, frozen=True):
    """A marked message's content, for the DPO's decision."""

    conversation_id: int
    seq: int
    label: str
    text: str
    attachment_name: str | None
    decision: str | None
    consent: str | None
