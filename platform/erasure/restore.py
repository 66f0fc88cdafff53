"""After a restore from a backup: destroy again what the destructions' journal (journal.py)
says was destroyed after the backup was made, before processing resumes (``okno destruction
reapply``). Each subject found again gets a new act naming the first one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from okno.platform import database
from okno.platform.erasure import compaction, destruction, journal, queries


@dataclass
class Reapplied:
    acts: list[int]  # the new acts
    checked: int  # journal lines read


async def reapply() -> Reapplied:
    """Destroy again, from the journal, what a restored database holds of destroyed subjects."""
    done: list[int] = []
    lines = journal.entries()
    async with compaction.batch():
        await _reapply(lines, done)
    return Reapplied(done, len(lines))


async def _reapply(lines: list[dict[str, Any]], done: list[int]) -> None:
    for line in lines:
        subject = uuid.UUID(line["subject"])
        async with database.acquire() as conn:
            row = await conn.fetchrow(queries.SUBJECT_STATE, subject)
        if row is None:
            continue  # the backup predates the subject: nothing of theirs came back
        reason = (
            f"повторное уничтожение после восстановления из резервной копии (акт № {line['act']})"
        )
        common = {"actor": None, "reason": reason, "legal_basis": line["legal_basis"]}
        if line["scope"] == "subject":
            if row["destroyed_at"] is not None:
                continue
            act = await destruction.destroy_subject(subject, **common)
        else:
            profile = [name for name in line["fields"] if name in (row["fields"] or [])]
            if not profile:
                continue
            act = await destruction.destroy_fields(subject, tuple(profile), **common)
        done.append(act.id)
