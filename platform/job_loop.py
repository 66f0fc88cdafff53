"""The loop every simple background job runs: a round, its outcome counted for /metrics, a
pause until the next round or the server's stop. A database that is away, or a statement that
fails, ends the round with a warning naming only the error's type (never its text: it may quote
a row), and the job goes on at the next round."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import asyncpg

from okno.platform import database, metrics

logger = logging.getLogger("okno.jobs")


async def every(
    stop: asyncio.Event, seconds: float, job: str, one_round: Callable[[], Awaitable[object]]
) -> None:
    while not stop.is_set():
        try:
            await one_round()
            metrics.JOB_RUNS.inc(job=job, outcome="ok")
        except database.UNAVAILABLE as error:
            metrics.JOB_RUNS.inc(job=job, outcome="database_unavailable")
            logger.warning("%s: database unavailable (%s)", job, type(error).__name__)
        except asyncpg.PostgresError as error:
            metrics.JOB_RUNS.inc(job=job, outcome="failed")
            logger.error("%s: a round failed (%s)", job, type(error).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)
