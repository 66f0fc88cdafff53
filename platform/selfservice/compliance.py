"""How the portal's acts appear in the processing log (docs/processing-log.md has the table).

Showing or exporting PD to the subject is ``provision`` by the operator's system to that person
(Art. 3 p.3: предоставление — disclosure to a defined person); the subject's own requests are the
purpose ``subject-rights`` on the bases of Art. 14, 20 and 21.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import asyncpg

from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action, ActorKind
from okno.platform.processing_log.schemas import LogEntry
from okno.platform.subjects.fields import FIELDS

PURPOSE = "subject-rights"
ACCESS_BASIS = "152-fz:14"  # the subject's right to their data and to information about it
BLOCKING_BASIS = "152-fz:21.1"  # blocking at the subject's claim, for the time of the check
CORRECTION_BASIS = "152-fz:21.2"
WITHDRAWAL_BASIS = "152-fz:21.5"  # consent withdrawn: stop, then destroy within 30 days


def entry(
    action: Action,
    actor: ActorKind,
    subject_id: uuid.UUID,
    fields: tuple[str, ...],
    *,
    purpose: str = PURPOSE,
    basis: str = ACCESS_BASIS,
    reason: str | None = None,
    request_id: int | None = None,
) -> LogEntry:
    return LogEntry(
        action=action,
        actor_kind=actor,
        subject_id=subject_id,
        fields=tuple(sorted(set(fields))),
        purpose=purpose,
        legal_basis=basis,
        reason=reason,
        request_id=request_id,
    )


def provision(subject_id: uuid.UUID, fields: tuple[str, ...], reason: str) -> list[LogEntry]:
    if not fields:
        return []
    return [entry(Action.PROVISION, ActorKind.SYSTEM, subject_id, fields, reason=reason)]


async def log_blocking(
    subject_id: uuid.UUID,
    rows: Iterable[asyncpg.Record],
    *,
    basis: str,
    reason: str,
    request_id: int,
    purpose: str = PURPOSE,
) -> tuple[str, ...]:
    """The registry's fields among ``rows`` (the ``field`` of each row just blocked), sorted;
    their blocking logged as the system's act, in the caller's transaction (none, no row)."""
    blocked = tuple(sorted(row["field"] for row in rows if row["field"] in FIELDS))
    if blocked:
        await processing_log.record(
            entry(
                Action.BLOCKING,
                ActorKind.SYSTEM,
                subject_id,
                blocked,
                purpose=purpose,
                basis=basis,
                reason=reason,
                request_id=request_id,
            )
        )
    return blocked
