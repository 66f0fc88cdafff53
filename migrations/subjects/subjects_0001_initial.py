from okno.platform.database import sql_migration

ID = "2026-11-22T16:50:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "Subjects (pseudonymous ids) and their PD, one row per registry field"

SQL = """
CREATE TABLE subject (
    id uuid PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    blocked_at timestamptz,
    destroyed_at timestamptz
);
CREATE TABLE subject_field (
    subject_id uuid NOT NULL REFERENCES subject (id),
    field text NOT NULL,
    value text NOT NULL,
    source text NOT NULL CHECK (source IN ('chat', 'form', 'operator', 'portal')),
    purpose text,
    consent_id bigint,
    collected_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    retain_until timestamptz,
    blocked_at timestamptz,
    PRIMARY KEY (subject_id, field)
);
"""


async def forwards() -> object:
    return sql_migration(ID, "subjects", DESCRIPTION, SQL)
