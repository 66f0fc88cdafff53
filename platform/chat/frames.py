"""WebSocket frames (docs/protocol.md): what peers send, as msgspec tagged unions with limits
(one for clients, one for staff); and the encoder of what the server sends
(okno.platform.chat.schemas)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import msgspec

from okno.platform.chat.schemas import Error, Pong

MAX_FRAME_BYTES = 64 * 1024
MAX_TEXT = 4000

# No NUL anywhere in what is stored: PostgreSQL text cannot hold it, so it is bad input.
NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, msgspec.Meta(max_length=MAX_TEXT, pattern=NO_NUL)]
BIGINT = 2**63 - 1  # ids are PostgreSQL bigints: anything larger is refused here, not by asyncpg
Seq = Annotated[int, msgspec.Meta(ge=1, le=BIGINT)]
Version = Annotated[int, msgspec.Meta(ge=0, le=BIGINT)]
ConversationId = Annotated[int, msgspec.Meta(ge=1, le=BIGINT)]
AttachmentId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{16,64}$")]
ButtonId = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_:.-]{1,64}$")]
Slug = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9-]{1,40}$")]


class Frame(msgspec.Struct, tag_field="type", forbid_unknown_fields=True):
    pass


# Frames a client sends.
class Resume(Frame, tag="resume"):
    after: Version = 0


class ChooseTopic(Frame, tag="topic"):
    slug: Slug


class ClientSend(Frame, tag="send"):
    client_id: uuid.UUID
    text: Text = ""
    reply_to: Seq | None = None
    attachment: AttachmentId | None = None


class ClientEdit(Frame, tag="edit"):
    seq: Seq
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TEXT, pattern=NO_NUL)]


class ClientDelete(Frame, tag="delete"):
    seq: Seq


class ClientRead(Frame, tag="read"):
    seq: Seq


class ClientTyping(Frame, tag="typing"):
    pass


class PressButton(Frame, tag="button"):
    seq: Seq
    button: ButtonId


class Ping(Frame, tag="ping"):
    pass


class FillField(Frame, tag="field"):
    seq: Seq
    value: Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=NO_NUL)]


ClientFrame = (
    Resume
    | ChooseTopic
    | ClientSend
    | ClientEdit
    | ClientDelete
    | ClientRead
    | ClientTyping
    | PressButton
    | FillField
    | Ping
)


# Frames staff send.
class Open(Frame, tag="open"):
    conversation: ConversationId
    after: Version = 0


class Leave(Frame, tag="leave"):
    conversation: ConversationId


class StaffSend(Frame, tag="send"):
    conversation: ConversationId
    client_id: uuid.UUID
    text: Text = ""
    reply_to: Seq | None = None
    attachment: AttachmentId | None = None
    internal: bool = False


class StaffEdit(Frame, tag="edit"):
    conversation: ConversationId
    seq: Seq
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TEXT, pattern=NO_NUL)]


class StaffDelete(Frame, tag="delete"):
    conversation: ConversationId
    seq: Seq


class StaffRead(Frame, tag="read"):
    conversation: ConversationId
    seq: Seq


class StaffTyping(Frame, tag="typing"):
    conversation: ConversationId


class Take(Frame, tag="take"):
    conversation: ConversationId


class Transfer(Frame, tag="transfer"):
    conversation: ConversationId
    to_staff: Annotated[int, msgspec.Meta(ge=1, le=BIGINT)] | None = None
    to_team: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)] | None = None


class SetStatus(Frame, tag="status"):
    conversation: ConversationId
    status: Literal["open", "pending", "resolved"]


class Presence(Frame, tag="presence"):
    status: Literal["online", "away"]


class RequestField(Frame, tag="request_field"):
    conversation: ConversationId
    field: Annotated[str, msgspec.Meta(pattern=r"^[a-z_]{1,40}$")]


class OfferConsent(Frame, tag="offer_consent"):
    conversation: ConversationId
    purpose: Literal["support", "advertising-chat", "advertising-email"]


StaffFrame = (
    Open
    | Leave
    | StaffSend
    | StaffEdit
    | StaffDelete
    | StaffRead
    | StaffTyping
    | Take
    | Transfer
    | SetStatus
    | Presence
    | RequestField
    | OfferConsent
    | Ping
)

CLIENT_FRAME_TYPES = tuple(frame.__struct_config__.tag for frame in ClientFrame.__args__)
STAFF_FRAME_TYPES = tuple(frame.__struct_config__.tag for frame in StaffFrame.__args__)

client_decoder = msgspec.json.Decoder(ClientFrame)
staff_decoder = msgspec.json.Decoder(StaffFrame)
# The one encoder of what the server sends (okno.platform.chat.schemas): each frame is encoded
# once, then queued as bytes on every socket that gets it.
encode = msgspec.json.Encoder().encode
PONG = encode(Pong())


def error(
    code: str,
    message: str,
    client_id: uuid.UUID | str | None = None,
    conversation: int | None = None,
) -> bytes:
    named = str(client_id) if client_id is not None else None
    return encode(Error(code, message, named, conversation))


class Names(msgspec.Struct):
    """What names a frame, read even from one that is dropped (``rate_limited``)."""

    client_id: str | None = None
    conversation: int | None = None


_names_decoder = msgspec.json.Decoder(Names)


def names_of(raw: str | bytes) -> Names:
    """The ``client_id`` and ``conversation`` of a raw frame, where it has them."""
    try:
        names = _names_decoder.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return Names()
    if names.client_id is not None and len(names.client_id) > 64:
        names.client_id = None
    return names
