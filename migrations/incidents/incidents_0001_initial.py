from okno.platform.database import sql_migration

ID = "2026-11-22T20:00:02:000000"
VERSION = "1.38.0"
DESCRIPTION = "The leak register (152-FZ Art. 21 p.3.1): incidents and the subjects they affect"

SQL = """
CREATE TABLE incident (
    id bigserial PRIMARY KEY,
    detected_at timestamptz NOT NULL,
    summary text NOT NULL CHECK (length(summary) BETWEEN 1 AND 5000),
    causes text NOT NULL DEFAULT '',
    harm text NOT NULL DEFAULT '',
    measures text NOT NULL DEFAULT '',
    contact_person text NOT NULL CHECK (length(contact_person) BETWEEN 1 AND 500),
    investigation text NOT NULL DEFAULT '',
    responsible text NOT NULL DEFAULT '',
    fields text[] NOT NULL,
    first_notice_at timestamptz,
    second_notice_at timestamptz,
    created_by bigint NOT NULL REFERENCES staff_user (id),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE incident_subject (
    incident_id bigint NOT NULL REFERENCES incident (id),
    subject_id uuid NOT NULL REFERENCES subject (id),
    PRIMARY KEY (incident_id, subject_id)
);
"""


async def forwards() -> object:
    return sql_migration(ID, "incidents", DESCRIPTION, SQL)
