"""The audit log's columns, declared to destruction: changes of settings and accounts."""

from __future__ import annotations

from okno.platform.erasure.registry import not_pd

not_pd(
    "staff_audit.actor_login",
    "staff_audit.entity",
    "staff_audit.entity_key",
    "staff_audit.change",
    "staff_audit.before",
    "staff_audit.after",
    reason="changes of settings, teams, topics and staff accounts; never a subject's data",
)
