from okno.platform.database import sql_migration

ID = "2026-12-02T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Consent in force: one definition, the view consent_in_force"

# A consent is in force from its 'given' event until a 'withdrawn' event names it (given_id).
# Every query that needs "the subject's consent in force" reads this view instead of repeating
# the rule. No PD columns (IP address, user agent): those stay with the events' proof.
SQL = """
CREATE VIEW consent_in_force AS
SELECT g.id, g.subject_id, g.purpose_code, g.document_id, g.version, g.document_sha256,
       g.channel, g.at
FROM consent_event g
WHERE g.kind = 'given'
  AND NOT EXISTS (SELECT 1 FROM consent_event w WHERE w.given_id = g.id);
"""


async def forwards() -> object:
    return sql_migration(ID, "consent", DESCRIPTION, SQL)
