from okno.platform.database import sql_migration

ID = "2026-12-01T10:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Teams and topics managed in the console: archive, default team, assignment mode"

# team, team_member and topic were created by chat_0001 (with the installed «Поддержка» and
# three topics); from here on the teams feature owns them.
# One default team at most, never archived: new operators join it unless told otherwise.
SQL = """
ALTER TABLE team
    ADD COLUMN archived_at timestamptz,
    ADD COLUMN is_default boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT team_default_not_archived CHECK (NOT (is_default AND archived_at IS NOT NULL));
CREATE UNIQUE INDEX team_one_default ON team (is_default) WHERE is_default;
UPDATE team SET is_default = true WHERE id = (SELECT min(id) FROM team);
ALTER TABLE topic
    ADD COLUMN assignment text NOT NULL DEFAULT 'round_robin'
        CHECK (assignment IN ('round_robin', 'least_loaded', 'manual'));
"""


async def forwards() -> object:
    return sql_migration(ID, "teams", DESCRIPTION, SQL)
