"""The statements of okno's own machinery (migrating, the database roles), not of a feature.

Hand-written: they read PostgreSQL's catalogs (pg_roles, pg_class) and grant or create roles,
which no Table class and no query builder covers.
"""

from __future__ import annotations

# The session's role: PostgreSQL's own, no table involved.
CURRENT_ROLE = "SELECT current_user"

# The session lock every migrating process waits for, so each migration runs once.
ADVISORY_LOCK = "SELECT pg_advisory_lock($1)"

# What the server's role may do, re-applied after every migration run so tables added later
# are covered too ("ALL TABLES" includes views; the view consent_in_force is read-only).
# {role} is the role's name quoted by migrate.quote_ident (privilege statements take no
# parameters).
APP_GRANTS = """
GRANT USAGE ON SCHEMA public TO {role};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role};
REVOKE INSERT, UPDATE, DELETE ON migration FROM {role};
REVOKE UPDATE, DELETE ON processing_log, processing_log_chain FROM {role};
REVOKE UPDATE ON processing_log_unsealed FROM {role};
REVOKE UPDATE, DELETE ON staff_audit FROM {role};
REVOKE INSERT, UPDATE, DELETE ON consent_in_force FROM {role};
"""

# Whether the connection's role could rewrite the processing log behind its triggers: a
# superuser, or a member of the role that owns the table.
LOG_GUARDING = (
    "SELECT r.rolsuper, pg_has_role(current_user, c.relowner, 'USAGE') AS owns"
    " FROM pg_roles r, pg_class c"
    " WHERE r.rolname = current_user AND c.oid = 'processing_log'::regclass"
)

ROLE_EXISTS = "SELECT 1 FROM pg_roles WHERE rolname = $1"

# DDL takes no parameters: the password is quoted by the server's own quote_literal.
QUOTE_LITERAL = "SELECT quote_literal($1)"


def create_role(quoted_role: str, quoted_password: str | None) -> str:
    """CREATE ROLE for a name quoted by quote_ident and a password by QUOTE_LITERAL."""
    statement = f"CREATE ROLE {quoted_role} LOGIN"
    if quoted_password is not None:
        statement += f" PASSWORD {quoted_password}"
    return statement


# `okno backup` (okno.platform.backup): one snapshot for the dump and the files, exported so
# pg_dump reads the same moment; the attachments and letters that moment has rows for.
EXPORT_SNAPSHOT = "SELECT pg_export_snapshot(), now()"
ATTACHMENT_KEYS = "SELECT path FROM attachment WHERE path IS NOT NULL ORDER BY path"
OUTBOX_LETTERS = "SELECT path FROM mail_outbox ORDER BY path"
# Also what /readyz and `okno check` compare with the code's migrations.
APPLIED_MIGRATIONS = "SELECT app_name, name FROM migration ORDER BY id"
SERVER_VERSION = "SHOW server_version"
# `okno restore`: the schema is emptied before the dump is loaded, so tables a newer version
# added do not survive beside the restored ones.
HAS_DESTRUCTION_ACTS = "SELECT to_regclass('destruction_act') IS NOT NULL"
EMPTY_SCHEMA = "DROP SCHEMA public CASCADE; CREATE SCHEMA public"

# What /metrics reads from the database at each scrape, in one round trip: the chat queue
# (the same rule as chat.queries' queue: unassigned, not resolved, waiting), its longest wait
# on the database's clock, due mailing deliveries, log rows not yet sealed, and the messages
# stored by every host (the statistics collector's row count, updated within seconds). Across
# features and for monitoring only, so here rather than in one feature's queries.
SCRAPE = """
SELECT
  (SELECT count(*) FROM conversation
    WHERE assignee_id IS NULL AND status <> 'resolved' AND waiting_since IS NOT NULL)
    AS queue_waiting,
  (SELECT coalesce(extract(epoch FROM now() - min(waiting_since)), 0) FROM conversation
    WHERE assignee_id IS NULL AND status <> 'resolved' AND waiting_since IS NOT NULL)
    AS queue_oldest_wait,
  (SELECT count(*) FROM mailing_delivery WHERE status = 'pending') AS mailings_due,
  (SELECT count(*) FROM processing_log_unsealed) AS log_unsealed,
  (SELECT coalesce(sum(n_tup_ins), 0) FROM pg_stat_user_tables WHERE relname = 'message')
    AS messages_stored
"""
