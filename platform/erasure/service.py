"""What the DPO console asks of destruction: an act's page, a destruction the DPO decides on
without a request, and the retention job's page and run."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from okno.platform import database
from okno.platform.erasure import acts, compaction, destruction, queries, retention
from okno.platform.erasure.destruction import DestructionError
from okno.platform.erasure.schemas import ActPage, RetentionPage, Rewrite
from okno.platform.processing_log import service as processing_log
from okno.platform.rights.tables import RightsRequest
from okno.platform.subjects.fields import FIELDS

# The DPO destroys on their own decision when they find processing unlawful (Art. 21 p.3).
DECISION_BASIS = "152-fz:21.3"


async def act_page(act_id: int) -> ActPage | None:
    """The act, the rewrite of its tables, and the log's head anchored after it."""
    found = await acts.get(act_id)
    if found is None:
        return None
    async with database.acquire() as conn:
        rewrite = await compaction.status(conn, act_id)
    anchor = processing_log.anchor_of(f"act:{act_id}")
    return ActPage(found, Rewrite(**rewrite) if rewrite else None, anchor)


async def destroy_on_decision(
    subject_id: uuid.UUID,
    *,
    fields: tuple[str, ...] | None,
    actor: Any,
    reason: str,
    reference: str = "",
) -> acts.Act:
    """Destroy the subject's PD (only ``fields``, if given) on the DPO's decision."""
    if fields is not None and (not fields or any(name not in FIELDS for name in fields)):
        raise DestructionError("выберите поля из реестра")
    common: dict[str, Any] = {
        "actor": actor,
        "reason": reason,
        "legal_basis": DECISION_BASIS,
        "identification": {"reference": reference.strip()[:300]} if reference else {},
    }
    if fields:
        return await destruction.destroy_fields(subject_id, fields, **common)
    return await destruction.destroy_subject(subject_id, **common)


async def retention_page() -> RetentionPage:
    """What the next run will do, and what the last runs did."""
    now = datetime.now(UTC)
    async with database.acquire() as conn:
        expired = await conn.fetchval(queries.EXPIRED_FIELDS_COUNT, now)
    due = await (
        RightsRequest.count()
        .where(
            RightsRequest.kind.is_in(list(retention.SCHEDULED_KINDS)),
            RightsRequest.status.not_in(["refused", "done"]),
            RightsRequest.due_at <= now + retention.EXECUTE_AHEAD,
        )
        .run()
    )
    return RetentionPage(
        expired=expired,
        due=due,
        purge=await acts.due_for_purge(now),
        runs=await retention.last_runs(),
    )


async def run_retention() -> None:
    """Run the retention job now, from the console (it also runs on schedule and from cron)."""
    destruction.load_erasers()
    await retention.run("console")
