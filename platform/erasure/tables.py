"""Destruction acts, the tables each act left to rewrite, and the retention job's runs, declared
once for Piccolo (migrations/erasure/ created them)."""

from __future__ import annotations

from piccolo.columns import JSONB, UUID, Array, BigInt, BigSerial, Integer, Text, Timestamptz
from piccolo.table import Table

from okno.platform.database import DatabaseNow


class DestructionAct(Table, tablename="destruction_act"):
    # No foreign key to the subject: an act outlives the data, naming a pseudonymous id only.
    id = BigSerial(primary_key=True)
    subject_id = UUID()
    request_id = BigInt(null=True, default=None)
    scope = Text()  # 'subject' or 'fields'
    act = JSONB()
    extract = JSONB()
    sha256 = Text()
    destroyed_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=DatabaseNow())
    purge_after = Timestamptz()


class ErasureCompaction(Table, tablename="erasure_compaction"):
    # act_id is the real primary key (and references destruction_act).
    act_id = BigInt(primary_key=True)
    tables = Array(Text())
    requested_at = Timestamptz(default=DatabaseNow())
    attempts = Integer(default=0)
    last_error = Text(null=True, default=None)
    done_at = Timestamptz(null=True, default=None)


class RetentionRun(Table, tablename="retention_run"):
    id = BigSerial(primary_key=True)
    started_at = Timestamptz(default=DatabaseNow())
    finished_at = Timestamptz(null=True, default=None)
    started_by = Text()  # 'schedule', 'cli' or 'console'
    summary = JSONB(default="{}")
    error = Text(null=True, default=None)
