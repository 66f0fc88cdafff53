"""Destruction's own columns, declared to its registry: acts, compactions and retention runs
hold no PD; nor does Piccolo's list of migrations (a table no feature declares)."""

from __future__ import annotations

from okno.platform.erasure.registry import VOCABULARY, not_pd

not_pd(
    "destruction_act.act",
    "destruction_act.extract",
    "destruction_act.scope",
    "destruction_act.sha256",
    reason="acts are labels and counts; destruction refuses an act that repeats a value",
)
not_pd(
    "erasure_compaction.tables",
    "erasure_compaction.last_error",
    reason="names of tables and of errors (the error's class, never its text)",
)
not_pd(
    "retention_run.error",
    "retention_run.started_by",
    "retention_run.summary",
    reason=VOCABULARY,
)
not_pd("migration.app_name", "migration.name", reason="Piccolo's list of applied migrations")
