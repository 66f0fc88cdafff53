"""The reports' tables, declared once for Piccolo (migrations/reports/ creates them).

``conversation_event`` is written by the triggers of reports_0001 and ``presence_span`` by
the trigger of reports_0002 (why there: see the migrations), never by the builder;
``sla_policy`` by ``reports.sla``.
"""

from __future__ import annotations

from piccolo.columns import (
    BigInt,
    BigSerial,
    Boolean,
    DoublePrecision,
    Integer,
    Serial,
    Text,
    Timestamptz,
)
from piccolo.table import Table

from okno.platform.database import DatabaseNow


class ConversationEvent(Table, tablename="conversation_event"):
    id = BigSerial(primary_key=True)
    conversation_id = BigInt()
    kind = Text()  # created, assigned, response, resolved, reopened
    at = Timestamptz(default=DatabaseNow())
    team_id = Integer(null=True, default=None)
    topic_id = Integer(null=True, default=None)
    staff_id = BigInt(null=True, default=None)
    channel = Text(default="web")
    seconds = DoublePrecision(null=True, default=None)
    first = Boolean(default=False)
    answered = Boolean(null=True, default=None)
    started_at = Timestamptz(null=True, default=None)


class SlaPolicy(Table, tablename="sla_policy"):
    # Exactly one of team_id and topic_id is set; a topic's policy wins over its team's.
    id = Serial(primary_key=True)
    team_id = Integer(null=True, default=None)
    topic_id = Integer(null=True, default=None)
    first_response_minutes = Integer(null=True, default=None)
    resolution_minutes = Integer(null=True, default=None)
    updated_at = Timestamptz(default=DatabaseNow())


class PresenceSpan(Table, tablename="presence_span"):
    # A stretch of «в сети» or «отошёл»; ended_at is null while it lasts.
    id = BigSerial(primary_key=True)
    staff_id = BigInt()
    status = Text()  # online, away
    started_at = Timestamptz()
    ended_at = Timestamptz(null=True, default=None)
