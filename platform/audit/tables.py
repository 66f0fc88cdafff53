"""The staff audit log's table, declared once for Piccolo (migrations/audit/ creates it)."""

from __future__ import annotations

from piccolo.columns import JSONB, BigInt, BigSerial, Text, Timestamptz
from piccolo.table import Table

from okno.platform.database import DatabaseNow


class StaffAudit(Table, tablename="staff_audit"):
    id = BigSerial(primary_key=True)
    at = Timestamptz(default=DatabaseNow())
    actor_id = BigInt(null=True)
    actor_login = Text()
    entity = Text()
    entity_key = Text()
    change = Text()
    before = JSONB(null=True)
    after = JSONB(null=True)
