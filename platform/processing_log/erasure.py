"""The processing log's columns, declared to destruction: none holds PD (the log stays)."""

from __future__ import annotations

from okno.platform.erasure.registry import not_pd

not_pd(
    "processing_log.action",
    "processing_log.actor_id",
    "processing_log.actor_kind",
    "processing_log.categories",
    "processing_log.fields",
    "processing_log.legal_basis",
    "processing_log.purpose",
    "processing_log.reason",
    "processing_log_chain.hash",
    "processing_log_chain.prev_hash",
    reason="the log names fields, purposes and bases, never values (docs/processing-log.md)",
)
