from okno.platform.database import sql_migration

ID = "2026-12-01T11:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "Message: special-category flag (152-FZ Art. 10), hidden from operators until the DPO decides"
)

# special_category: the Art. 10 category staff marked the message (its text and attachment)
# as holding; set, the chat shows staff «скрыто: особая категория». special_decision: the
# DPO's, 'kept' under a written consent (special_consent: its reference, which may name the
# subject, so destruction clears it) or 'destroyed'.
SQL = """
ALTER TABLE message
    ADD COLUMN special_category text CHECK (special_category IN ('health', 'race_nationality',
        'political_views', 'beliefs', 'intimate_life', 'criminal_record')),
    ADD COLUMN special_flagged_by bigint REFERENCES staff_user (id),
    ADD COLUMN special_flagged_at timestamptz,
    ADD COLUMN special_decision text CHECK (special_decision IN ('kept', 'destroyed')),
    ADD COLUMN special_decided_by bigint REFERENCES staff_user (id),
    ADD COLUMN special_decided_at timestamptz,
    ADD COLUMN special_consent text CHECK (length(special_consent) <= 300);
CREATE INDEX message_special_pending ON message (special_flagged_at)
    WHERE special_category IS NOT NULL AND special_decision IS NULL;
"""


async def forwards() -> object:
    return sql_migration(ID, "chat", DESCRIPTION, SQL)
