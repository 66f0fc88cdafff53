"""How chat operations appear in the processing log (docs/processing-log.md has the table)."""

from __future__ import annotations

import uuid

from okno.platform import database
from okno.platform.processing_log import service as processing_log
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

    @classmethod
    def integration(cls, token_id: int) -> Actor:
        return cls(ActorKind.INTEGRATION, str(token_id))


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


async def list_viewed(staff_id: int, box: str, shown: int, searched: bool) -> None:
    """A staff list of conversations with message previews: one row set per view, not per item
    (and none when nothing is shown). The search text is never logged: it may be a PD value."""
    if shown == 0:
        return
    actions: tuple[Action, ...] = (Action.SYSTEMATIZATION, Action.ACCESS)
    if searched:
        actions = (Action.EXTRACTION, *actions)
    what = "поиск по перепискам" if searched else "список диалогов"
    async with database.transaction():
        await processing_log.record(
            *[
                LogEntry(
                    action=action,
                    actor_kind=ActorKind.STAFF,
                    actor_id=str(staff_id),
                    fields=("message_text",),
                    purpose=PURPOSE,
                    legal_basis=LEGAL_BASIS,
                    reason=f"{what} «{box}»: показано {shown}",
                )
                for action in actions
            ]
        )
