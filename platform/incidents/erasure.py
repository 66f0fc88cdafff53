"""The leak register's columns, declared to destruction: the reports' texts are scrubbed of a
destroyed subject's values; the rest holds no PD."""

from __future__ import annotations

from okno.platform.erasure.registry import STAFF_OWN, STAFF_TEXT, VOCABULARY, not_pd, scrubbed

scrubbed(
    "incident.summary",
    "incident.causes",
    "incident.harm",
    "incident.measures",
    "incident.investigation",
    reason=STAFF_TEXT,
)
not_pd("incident.fields", reason=VOCABULARY)
not_pd("incident.contact_person", "incident.responsible", reason=STAFF_OWN)
