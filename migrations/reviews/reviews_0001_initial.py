from okno.platform.database import sql_migration

ID = "2026-11-22T20:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "Reviews: a rating and text after a resolved conversation; a name only with consent"

SQL = """
CREATE TABLE review (
    id bigserial PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES conversation (id),
    subject_id uuid NOT NULL REFERENCES subject (id),
    question_seq bigint NOT NULL,
    rating integer NOT NULL CHECK (rating BETWEEN 1 AND 5),
    body text NOT NULL DEFAULT '' CHECK (length(body) <= 2000),
    publication text NOT NULL DEFAULT 'private'
        CHECK (publication IN ('private', 'anonymous', 'named')),
    consent_id bigint REFERENCES consent_event (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    UNIQUE (conversation_id, question_seq),
    CHECK ((publication = 'named') = (consent_id IS NOT NULL))
);
CREATE INDEX review_published ON review (published_at DESC) WHERE publication <> 'private';
"""


async def forwards() -> object:
    return sql_migration(ID, "reviews", DESCRIPTION, SQL)
