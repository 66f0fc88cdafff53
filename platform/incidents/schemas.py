"""What the leak register takes from the DPO's form and gives the console's pages."""

from __future__ import annotations

from datetime import datetime

import msgspec


class IncidentIn(msgspec.Struct, frozen=True, kw_only=True):
    detected_at: datetime
    summary: str
    causes: str = ""
    harm: str = ""
    measures: str = ""
    contact_person: str
    fields: tuple[str, ...]
    conversations: tuple[int, ...] = ()  # the affected, by conversation; or by field held
    everyone_with_fields: bool = False


class IncidentRecord(msgspec.Struct, frozen=True, kw_only=True):
    """An incident as recorded, with how many subjects it affects, its KoAP tier and both
    notices' deadlines."""

    id: int
    detected_at: datetime
    summary: str
    causes: str
    harm: str
    measures: str
    contact_person: str
    investigation: str
    responsible: str
    fields: tuple[str, ...]
    first_notice_at: datetime | None
    second_notice_at: datetime | None
    created_by: int
    created_at: datetime
    affected: int
    tier: str
    first_due: datetime  # the 24-hour notice (Art. 21 p.3.1 item 1)
    second_due: datetime  # the 72-hour notice (item 2)
