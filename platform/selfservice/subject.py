"""The signed-in subject's own row, read and locked through the query builder, in the
caller's transaction. Subject rows are never deleted, only marked destroyed, so a session's
subject always has one."""

from __future__ import annotations

import uuid
from datetime import datetime

from okno.platform.subjects.tables import Subject


async def since(subject_id: uuid.UUID) -> datetime:
    """When the subject was first seen."""
    row = await Subject.select(Subject.created_at).where(Subject.id == subject_id).first().run()
    assert row is not None  # a session's subject has its row
    created_at: datetime = row["created_at"]
    return created_at


async def lock(subject_id: uuid.UUID) -> None:
    """Lock the subject's row, so that their requests are filed one after the other."""
    await Subject.select(Subject.id).where(Subject.id == subject_id).lock_rows().run()
