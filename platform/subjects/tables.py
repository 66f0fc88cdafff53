"""Subjects (pseudonymous ids) and their personal data, one row per registry field, declared
once for Piccolo (migrations/subjects/ creates the tables)."""

from __future__ import annotations

from piccolo.columns import UUID, BigInt, Text, Timestamptz
from piccolo.table import Table

from okno.platform.database import DatabaseNow


class Subject(Table, tablename="subject"):
    # Rows are never deleted: a destroyed subject keeps its id and ``destroyed_at``.
    id = UUID(primary_key=True)
    created_at = Timestamptz(default=DatabaseNow())
    blocked_at = Timestamptz(null=True, default=None)
    destroyed_at = Timestamptz(null=True, default=None)


class SubjectField(Table, tablename="subject_field"):
    # The real key is (subject_id, field); Piccolo has no composite keys, so subject_id stands
    # in for the builder (every query names both columns, or means all of a subject's fields).
    subject_id = UUID(primary_key=True)
    field = Text()  # a name from okno.platform.subjects.fields.FIELDS
    value = Text()
    source = Text()  # chat, form, operator, portal
    purpose = Text(null=True, default=None)
    consent_id = BigInt(null=True, default=None)  # the consent it was collected under, if any
    collected_at = Timestamptz(default=DatabaseNow())
    updated_at = Timestamptz(default=DatabaseNow())
    retain_until = Timestamptz(null=True, default=None)
    blocked_at = Timestamptz(null=True, default=None)
