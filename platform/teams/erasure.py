"""The teams' and topics' columns, declared to destruction: the operator's own settings."""

from __future__ import annotations

from okno.platform.erasure.registry import OPERATORS_OWN, not_pd

not_pd("topic.slug", "topic.title", "topic.assignment", "team.name", reason=OPERATORS_OWN)
