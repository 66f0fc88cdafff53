"""What the retention job reports and what the DPO console gets from okno.platform.erasure."""

from __future__ import annotations

from datetime import datetime

import msgspec

from okno.platform.erasure.acts import Act
from okno.platform.processing_log.service import Anchor


class Summary(msgspec.Struct):
    """What one run of the retention job did (counts only; stored with the run)."""

    withdrawals_registered: int = 0
    requests_executed: int = 0
    fields_destroyed: int = 0
    conversations_aged: int = 0  # conversations whose old messages were destroyed
    acts_made: int = 0
    acts_purged: int = 0
    failures: int = 0
    skipped: bool = False  # another run held the lock


class Run(msgspec.Struct, frozen=True):
    """One run of the job, as the console lists it."""

    id: int
    started_at: datetime
    finished_at: datetime | None
    started_by: str
    summary: Summary
    error: str | None


class Rewrite(msgspec.Struct, frozen=True):
    """The rewrite (VACUUM FULL) of the tables an act touched."""

    tables: list[str]
    requested_at: datetime
    attempts: int
    last_error: str | None
    done_at: datetime | None


class ActPage(msgspec.Struct, frozen=True):
    act: Act
    rewrite: Rewrite | None
    anchor: Anchor | None  # the log's head anchored right after the act


class RetentionPage(msgspec.Struct, frozen=True):
    """What the next run of the retention job will do, and what the last runs did."""

    expired: int  # profile fields whose term has passed
    due: int  # scheduled requests whose last day has come
    purge: int  # acts whose three years are over
    runs: list[Run]
