"""The working hours' columns, declared to destruction: a team's week, no PD."""

from __future__ import annotations

from okno.platform.erasure.registry import not_pd

not_pd("team_hours.time_zone", "team_hours.week", reason="a team's working hours")
