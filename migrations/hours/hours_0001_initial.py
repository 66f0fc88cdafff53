from okno.platform.database import sql_migration

ID = "2026-12-01T10:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Working hours per team: a weekly schedule in a time zone, the production calendar"

# No row: the team works round the clock, so installing this changes nothing until an admin
# sets hours. One interval a day; a night shift is two days' intervals.
SQL = """
CREATE TABLE team_hours (
    team_id integer PRIMARY KEY REFERENCES team (id) ON DELETE CASCADE,
    time_zone text NOT NULL DEFAULT 'Europe/Moscow',
    week jsonb NOT NULL CHECK (jsonb_typeof(week) = 'array' AND jsonb_array_length(week) = 7),
    production_calendar boolean NOT NULL DEFAULT true,
    updated_at timestamptz NOT NULL DEFAULT now()
);
"""


async def forwards() -> object:
    return sql_migration(ID, "hours", DESCRIPTION, SQL)
