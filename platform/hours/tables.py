"""Working hours of a team, declared once for Piccolo (migrations/hours/ creates the table)."""

from __future__ import annotations

from piccolo.columns import JSONB, Boolean, Integer, Text, Timestamptz
from piccolo.table import Table

from okno.platform.database import DatabaseNow


class TeamHours(Table, tablename="team_hours"):
    # A team without a row works round the clock (as every team did before working hours).
    team_id = Integer(primary_key=True)
    time_zone = Text(default="Europe/Moscow")
    # Seven entries, Monday first: ["09:00", "18:00"] or null for a day off.
    week = JSONB()
    # Whether the production calendar's days off (holidays, moved days off) close the team.
    production_calendar = Boolean(default=True)
    updated_at = Timestamptz(default=DatabaseNow())
