"""How chat operations appear in the processing log (docs/processing-log.md has the table)."""

from __future__ import annotations

import uuid

from okno.platform.processing_log.actions import Action, ActorKind
from okno.platform.processing_log.schemas import LogEntry

# Replying to a client who wrote first: processing at the subject's own initiative
# (152-FZ Art. 6 p.1 item 5). Consent-based purposes come with the consent feature.
PURPOSE = "support"
LEGAL_BASIS = "152-fz:6.1.5"


class Actor:
    __slots__ = ("id", "kind")

    def __init__(self, kind: ActorKind, actor_id: str | None) -> None:
        self.kind, self.id = kind, actor_id

    @classmethod
    def subject(cls) -> Actor:
        return cls(ActorKind.SUBJECT, None)

    @classmethod
    def staff(cls, staff_id: int) -> Actor:
        return cls(ActorKind.STAFF, str(staff_id))

    @classmethod
    def system(cls) -> Actor:
        return cls(ActorKind.SYSTEM, None)


def entries(
    actor: Actor,
    subject_id: uuid.UUID,
    actions: tuple[Action, ...],
    fields: tuple[str, ...],
    reason: str | None = None,
) -> list[LogEntry]:
    return [
        LogEntry(
            action=action,
            actor_kind=actor.kind,
            actor_id=actor.id,
            subject_id=subject_id,
            fields=fields,
            purpose=PURPOSE,
            legal_basis=LEGAL_BASIS,
            reason=reason,
        )
        for action in actions
    ]
