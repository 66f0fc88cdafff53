"""The retention job: PD whose term has ended are destroyed, with the same acts as any destruction.

One run, in order:
1. a consent withdrawn (not replaced by a newer version) becomes a request of the kind
   ``consent_withdrawn`` (channel ``system``), due 30 days after the withdrawal: the DPO sees it
   in the queue and may refuse it with a reason (another legal basis);
2. open requests of the kinds ``consent_withdrawn`` and ``purpose_achieved`` whose last day has
   come (``due_at - EXECUTE_AHEAD``) are executed: the fields collected under that consent are
   destroyed (``purpose_achieved``: all the subject's PD);
3. profile fields whose retention term (``retain_until``, the purpose's term) has passed are
   destroyed;
4. messages older than the ``support`` purpose's term lose their texts and files;
5. destruction acts older than three years are purged.

It runs inside the server every ``OKNO_RETENTION_INTERVAL_MINUTES`` (several workers take turns
through an advisory lock) and from cron with ``okno retention run``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec

from okno.platform import database, metrics
from okno.platform.chat.erasure import TOMBSTONE
from okno.platform.erasure import acts, compaction, destruction, queries
from okno.platform.erasure.destruction import DestructionError, DestructionIncompleteError
from okno.platform.erasure.schemas import Run, Summary
from okno.platform.erasure.tables import RetentionRun
from okno.platform.rights import handling, requests
from okno.platform.rights.deadlines import RequestKind
from okno.platform.settings import get_settings

logger = logging.getLogger("okno.retention")

RUN_LOCK = 0x6F6B6E6F_726574  # "oknoret"
EXECUTE_AHEAD = timedelta(days=1)  # act on the last day, not after it
SCHEDULED_KINDS = ("consent_withdrawn", "purpose_achieved")
SUPPORT = "support"  # the purpose whose term bounds how long message texts are kept


async def run(started_by: str = "cli", now: datetime | None = None) -> Summary:
    """One pass of the job; a run already in progress elsewhere makes this one a no-op."""
    now = now or datetime.now(UTC)
    summary = Summary()
    lock = await asyncpg.connect(get_settings().database_url)
    try:
        if not await lock.fetchval(queries.TRY_LOCK, RUN_LOCK):
            summary.skipped = True
            return summary
        run_id = await lock.fetchval(queries.RUN_START, started_by)
        error = None
        try:
            await _register_withdrawals(summary)
            async with compaction.batch():  # the tables are rewritten once, after all acts
                await _execute_due(summary, now)
                await _expired_fields(summary, now)
                await _old_messages(summary, now)
            summary.acts_purged = await acts.purge()
        except (OSError, asyncpg.PostgresError) as problem:
            error = type(problem).__name__
            raise
        finally:
            await lock.execute(
                queries.RUN_FINISH, run_id, msgspec.json.encode(summary).decode(), error
            )
        return summary
    finally:
        await lock.close()


async def _register_withdrawals(summary: Summary) -> None:
    async with database.acquire() as conn:
        withdrawals = await conn.fetch(queries.WITHDRAWALS_UNREGISTERED)
    for row in withdrawals:
        async with database.transaction():
            conn = database.connection()
            given = await conn.fetch(queries.CONSENT_FIELDS, row["subject_id"], row["given_id"])
            fields = [r["field"] for r in given]
            await requests.create(
                conn,
                subject_id=row["subject_id"],
                kind=RequestKind.CONSENT_WITHDRAWN,
                channel="system",
                details={"fields": fields, "consent": row["given_id"]},
                purpose_code=row["purpose_code"],
                consent_id=row["given_id"],
                actor=("system", None),
                received_at=row["at"],
            )
        summary.withdrawals_registered += 1


async def _execute_due(summary: Summary, now: datetime) -> None:
    async with database.acquire() as conn:
        due = await conn.fetch(queries.DUE_REQUESTS, list(SCHEDULED_KINDS), EXECUTE_AHEAD, now)
    for row in due:
        try:
            await _execute(row)
            summary.requests_executed += 1
            summary.acts_made += 1
        except DestructionIncompleteError:
            summary.failures += 1
            logger.error("retention: destruction for request %s is incomplete", row["id"])
        except (DestructionError, requests.RequestError) as refused:
            summary.failures += 1
            logger.warning("retention: request %s not executed: %s", row["id"], refused)


async def _execute(row: asyncpg.Record) -> None:
    """Approve on the system's behalf (the DPO did not refuse in time) and destroy."""
    async with database.transaction():
        conn = database.connection()
        request = await requests.get(conn, row["id"])
        assert request is not None
        for step in ("review", "approved"):
            if step in requests.NEXT[request.status]:
                request = await requests.transition(
                    conn, request.id, step, None, note="срок наступил: исполняет задание хранения"
                )
    fields: tuple[str, ...] | None = None
    details = msgspec.json.decode(row["details"]) if row["details"] else {}
    # «Удалить мои данные» (okno.platform.selfservice.erasure): everything, not one consent's.
    if row["kind"] == "consent_withdrawn" and details.get("scope") != "all":
        async with database.acquire() as conn:
            current = await conn.fetch(queries.CONSENT_FIELDS, row["subject_id"], row["consent_id"])
        fields = tuple(sorted({*details.get("fields", []), *(r["field"] for r in current)}))
        async with database.acquire() as conn:
            present = await conn.fetchval(queries.FIELDS_PRESENT, row["subject_id"], list(fields))
        if not present:
            await handling.finish(
                request, None, "Данных, собранных по отозванному согласию, у оператора нет."
            )
            return
    await handling.destroy(row["id"], None, fields=fields)


async def _expired_fields(summary: Summary, now: datetime) -> None:
    async with database.acquire() as conn:
        expired = await conn.fetch(queries.EXPIRED_FIELDS, now)
    for row in expired:
        try:
            await destruction.destroy_fields(
                row["subject_id"],
                tuple(row["fields"]),
                actor=None,
                reason="истёк срок хранения персональных данных по цели обработки",
                legal_basis="152-fz:5.7",
            )
            summary.fields_destroyed += len(row["fields"])
            summary.acts_made += 1
        except DestructionIncompleteError:
            summary.failures += 1
            logger.error("retention: expired fields of a subject were not destroyed")
        except DestructionError as refused:
            summary.failures += 1
            logger.warning("retention: expired fields not destroyed: %s", refused)


async def _old_messages(summary: Summary, now: datetime) -> None:
    """Messages older than the support purpose's term lose their texts and files."""
    async with database.acquire() as conn:
        days = await conn.fetchval(queries.PURPOSE_TERM, SUPPORT)
        if not days:
            return
        before = now - timedelta(days=days)
        subjects = await conn.fetch(queries.OLD_MESSAGE_SUBJECTS, before, TOMBSTONE)
    for row in subjects:
        try:
            await destruction.destroy_messages(
                row["subject_id"],
                before,
                actor=None,
                reason=f"истёк срок хранения переписки ({days} дн.) по цели «{SUPPORT}»",
            )
            summary.conversations_aged += 1
            summary.acts_made += 1
        except DestructionIncompleteError:
            summary.failures += 1
            logger.error("retention: old messages of a subject were not destroyed")
        except DestructionError as refused:
            summary.failures += 1
            logger.warning("retention: old messages not destroyed: %s", refused)


async def last_runs(limit: int = 10) -> list[Run]:
    """The newest runs first, with what each did."""
    rows = await RetentionRun.select().order_by(RetentionRun.id, ascending=False).limit(limit).run()
    return [
        Run(**{**row, "summary": msgspec.json.decode(row["summary"], type=Summary)}) for row in rows
    ]


async def job(stop: asyncio.Event) -> None:
    """The in-server loop (a background job of the app's lifespan): a run every
    ``OKNO_RETENTION_INTERVAL_MINUTES``, the first one an interval after start; a failed run is
    logged and the next one comes on time. 0 minutes: the job does not run."""
    interval = get_settings().retention_interval_minutes
    if not interval:
        return
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval * 60)
        if stop.is_set():
            return
        try:
            summary = await run("schedule")
            metrics.JOB_RUNS.inc(job="retention", outcome="failures" if summary.failures else "ok")
            if summary.acts_made or summary.failures:
                logger.warning("retention: %s", msgspec.json.encode(summary).decode())
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as problem:
            metrics.JOB_RUNS.inc(job="retention", outcome="database_unavailable")
            logger.warning("retention: database unavailable (%s)", type(problem).__name__)
