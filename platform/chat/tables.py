"""The chat's tables, declared once for Piccolo: conversations, their messages and files, the
browsers that write them (visitors), staff presence, canned replies, and the console's
notification preferences and viewers.

chat_0001..0003 created them; three other features' migrations add a column each (noted on
the column). References to other tables are plain columns here, as in teams/tables.py: the
migrations own the foreign keys, and the builder never joins through them.
"""

from __future__ import annotations

from piccolo.columns import (
    JSONB,
    UUID,
    Array,
    BigInt,
    BigSerial,
    Boolean,
    Bytea,
    Integer,
    SmallInt,
    Text,
    Timestamptz,
)
from piccolo.custom_types import Combinable
from piccolo.table import Table

from okno.platform.database import DatabaseNow


class Visitor(Table, tablename="visitor"):
    """A browser, known by the hash of the random token in its cookie."""

    token_hash = Bytea(primary_key=True)
    subject_id = UUID(null=True, default=None)
    topic_id = Integer(null=True, default=None)
    created_at = Timestamptz(default=DatabaseNow())
    last_seen_at = Timestamptz(default=DatabaseNow())
    portal_closed_at = Timestamptz(null=True, default=None)  # selfservice_0002


class Conversation(Table, tablename="conversation"):
    """A subject's one conversation, with the counters every message moves on."""

    id = BigSerial(primary_key=True)
    subject_id = UUID()
    topic_id = Integer(null=True, default=None)
    team_id = Integer(null=True, default=None)
    status = Text(default="new")  # new, open, pending, resolved
    assignee_id = BigInt(null=True, default=None)
    last_seq = BigInt(default=0)
    last_version = BigInt(default=0)
    client_read_seq = BigInt(default=0)
    staff_read_seq = BigInt(default=0)
    waiting_since = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=DatabaseNow())
    updated_at = Timestamptz(default=DatabaseNow())
    staff_unread = Integer(default=0)  # chat_0002
    tags = Array(base_column=Text(), default=list)  # mailings_0001
    # chat_0004: out of the staff lists until then (a query-time condition), and who said so.
    snoozed_until = Timestamptz(null=True, default=None)
    snoozed_by = BigInt(null=True, default=None)


class Attachment(Table, tablename="attachment"):
    """An uploaded file; ``path`` (its name in the data folder) is cleared when it is erased."""

    id = Text(primary_key=True)
    conversation_id = BigInt(null=True, default=None)
    uploader_kind = Text()  # subject or staff
    uploader_id = Text()
    name = Text()
    content_type = Text()
    size = BigInt()
    image = Boolean()
    path = Text(null=True, default=None)
    created_at = Timestamptz(default=DatabaseNow())


class Message(Table, tablename="message"):
    # The real key is (conversation_id, seq); Piccolo has no composite keys, so seq stands in
    # for the builder (every query here names both columns).
    conversation_id = BigInt()
    seq = BigInt(primary_key=True)
    version = BigInt()
    client_id = UUID()
    author_kind = Text()  # subject, staff, bot, system
    author_id = BigInt(null=True, default=None)
    body = Text(default="")
    reply_to = BigInt(null=True, default=None)
    attachment_id = Text(null=True, default=None)
    buttons = JSONB(default="[]")
    internal = Boolean(default=False)
    created_at = Timestamptz(default=DatabaseNow())
    edited_at = Timestamptz(null=True, default=None)
    deleted_at = Timestamptz(null=True, default=None)
    # chat_0003: the Art. 10 special category staff marked, and the DPO's decision.
    special_category = Text(null=True, default=None)
    special_flagged_by = BigInt(null=True, default=None)
    special_flagged_at = Timestamptz(null=True, default=None)
    special_decision = Text(null=True, default=None)  # kept or destroyed
    special_decided_by = BigInt(null=True, default=None)
    special_decided_at = Timestamptz(null=True, default=None)
    special_consent = Text(null=True, default=None)
    # consent_0001: a bot message's one-field form and its links.
    form = JSONB(null=True, default=None)
    links = JSONB(default="[]")

    @classmethod
    def key(cls, conversation_id: int, seq: int) -> Combinable:
        """The builder's condition for one message, by its real key."""
        return (cls.conversation_id == conversation_id) & (cls.seq == seq)


class StaffPresence(Table, tablename="staff_presence"):
    """An operator's last heartbeat and status, and when they were last given a chat."""

    staff_id = BigInt(primary_key=True)
    status = Text()  # online, away, offline
    seen_at = Timestamptz(default=DatabaseNow())
    last_assigned_at = Timestamptz(null=True, default=None)


class CannedReply(Table, tablename="canned_reply"):
    """A staff member's saved answer, typed by its shortcut; shared ones are everyone's."""

    id = BigSerial(primary_key=True)
    owner_id = BigInt()
    shortcut = Text()
    body = Text()
    shared = Boolean(default=False)
    created_at = Timestamptz(default=DatabaseNow())


class ConsolePreference(Table, tablename="console_preference"):
    """A staff member's console notifications (chat_0004); no row: the defaults."""

    staff_id = BigInt(primary_key=True)
    sound_queue = Boolean(default=True)
    sound_mine = Boolean(default=True)
    sound_transfer = Boolean(default=True)
    volume = SmallInt(default=60)
    desktop = Boolean(default=True)
    desktop_details = Boolean(default=False)  # the client's words in a desktop notification
    updated_at = Timestamptz(default=DatabaseNow())


class ConversationViewer(Table, tablename="conversation_viewer"):
    """A staff socket with a conversation open (chat_0004), for colleagues to see."""

    # The real key is (conversation_id, socket); Piccolo has no composite keys.
    conversation_id = BigInt()
    socket = UUID(primary_key=True)
    staff_id = BigInt()
    seen_at = Timestamptz(default=DatabaseNow())
