"""What a processing-log row may hold: names and codes, never PD values."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec

from okno.platform.pd_detect import contains_pd
from okno.platform.processing_log.actions import Action, ActorKind
from okno.platform.subjects.fields import FIELDS

Code = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_.:/-]{0,79}$")]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class LogEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One processing action. ``fields`` are registry names; categories follow from them."""

    action: Action
    actor_kind: ActorKind
    actor_id: Code | None = None
    subject_id: uuid.UUID | None = None
    fields: tuple[str, ...] = ()
    purpose: Code | None = None
    legal_basis: Code | None = None
    request_id: int | None = None
    reason: Reason | None = None

    def __post_init__(self) -> None:
        unknown = [name for name in self.fields if name not in FIELDS]
        if unknown:
            raise ValueError(f"processing log: unknown PD fields {unknown}")
        if self.reason is not None and contains_pd(self.reason):
            raise ValueError("processing log: the reason looks like it holds a PD value")


def validated(entry: LogEntry) -> LogEntry:
    """Run the Meta constraints too (a Struct built in code skips them)."""
    return msgspec.convert(msgspec.to_builtins(entry), LogEntry)
