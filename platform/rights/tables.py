"""Subjects' requests and their append-only events, declared once for Piccolo
(migrations/rights/ created them; migrations/erasure/ lets destruction redact the events' texts).
"""

from __future__ import annotations

from piccolo.columns import JSONB, UUID, BigInt, BigSerial, Text, Timestamptz
from piccolo.table import Table

from okno.platform.database import DatabaseNow


class RightsRequest(Table, tablename="rights_request"):
    id = BigSerial(primary_key=True)
    # References subject (id); null for a letter whose subject is not yet identified.
    subject_id = UUID(null=True, default=None)
    kind = Text()  # a RequestKind
    status = Text(default="received")
    channel = Text()  # 'portal', 'letter', 'chat' or 'system'
    purpose_code = Text(null=True, default=None)  # references purpose (code)
    consent_id = BigInt(null=True, default=None)  # references consent_event (id)
    details = JSONB(default="{}")
    requester = JSONB(default="{}")
    received_at = Timestamptz(default=DatabaseNow())
    due_at = Timestamptz()
    extended_at = Timestamptz(null=True, default=None)
    extension_reason = Text(null=True, default=None)
    decided_by = BigInt(null=True, default=None)  # references staff_user (id)
    decision_reason = Text(null=True, default=None)
    answer = Text(null=True, default=None)
    completed_at = Timestamptz(null=True, default=None)


class RightsRequestEvent(Table, tablename="rights_request_event"):
    id = BigSerial(primary_key=True)
    request_id = BigInt()  # references rights_request (id)
    at = Timestamptz(default=DatabaseNow())
    actor_kind = Text()  # 'subject', 'staff' or 'system'
    actor_id = BigInt(null=True, default=None)  # references staff_user (id)
    from_status = Text(null=True, default=None)
    to_status = Text()
    note = Text(null=True, default=None)
    notice_to_subject = Text(null=True, default=None)
