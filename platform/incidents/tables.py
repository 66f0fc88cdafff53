"""The leak register and the subjects each leak affects, declared once for Piccolo
(migrations/incidents/ creates the tables)."""

from __future__ import annotations

from piccolo.columns import UUID, Array, BigInt, BigSerial, Text, Timestamptz
from piccolo.table import Table

from okno.platform.database import DatabaseNow


class Incident(Table, tablename="incident"):
    id = BigSerial(primary_key=True)
    detected_at = Timestamptz()
    summary = Text()
    causes = Text(default="")
    harm = Text(default="")
    measures = Text(default="")
    contact_person = Text()
    # Filled in for the second notice (72 hours): the internal investigation's results.
    investigation = Text(default="")
    responsible = Text(default="")
    fields = Array(base_column=Text())  # names from okno.platform.subjects.fields.FIELDS
    first_notice_at = Timestamptz(null=True, default=None)
    second_notice_at = Timestamptz(null=True, default=None)
    created_by = BigInt()  # the DPO's staff id
    created_at = Timestamptz(default=DatabaseNow())


class IncidentSubject(Table, tablename="incident_subject"):
    # The real key is (incident_id, subject_id); Piccolo has no composite keys, so subject_id
    # stands in for the builder (every query here names the incident).
    incident_id = BigInt()
    subject_id = UUID(primary_key=True)
