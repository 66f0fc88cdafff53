from okno.platform.database import sql_migration

ID = "2026-12-01T15:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "API tokens for integrations, and the integration as an actor of the processing log"

# Only the keyed hash of a token is kept (okno.platform.apitokens.service): a leaked table
# gives nobody a working token. ``window_*`` count the calls of the current minute, for the
# per-token rate limit, in the same UPDATE that stamps ``last_used_at``.
SQL = """
CREATE TABLE api_token (
    id bigserial PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- What the integration processes the data for: one of the purposes the company declared.
    purpose_code text NOT NULL REFERENCES purpose (code),
    token_hash bytea NOT NULL UNIQUE,
    prefix text NOT NULL,
    scopes text[] NOT NULL,
    created_by bigint NOT NULL REFERENCES staff_user (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    revoked_by bigint REFERENCES staff_user (id),
    last_used_at timestamptz,
    window_started_at timestamptz,
    window_calls integer NOT NULL DEFAULT 0
);
-- An integration calling /api/v1 acts on a client's data in its own name: actor_id is the
-- token's id, the row's purpose the token's declared one.
ALTER TABLE processing_log DROP CONSTRAINT processing_log_actor_kind_check;
ALTER TABLE processing_log ADD CONSTRAINT processing_log_actor_kind_check
    CHECK (actor_kind IN ('subject', 'staff', 'system', 'integration'));
"""


async def forwards() -> object:
    return sql_migration(ID, "apitokens", DESCRIPTION, SQL)
