"""The hand-written SQL of destruction, verification, compaction and the retention job.

Why hand-written: destruction and the verification reach other features' tables (subject,
subject_field, message, conversation, attachment, rights_request, review, and every column of
the schema) on the one connection of the destruction's transaction, with CTEs that count what
they changed, locks, jsonb operators and casts the query builder does not spell; compaction and
the retention job run on connections of their own (the schema owner's, the advisory lock's)
that Piccolo's engine does not hold. Plain CRUD of erasure's own tables is Piccolo (acts.py,
compaction.py, retention.py, service.py). Each feature's eraser keeps its SQL in that feature's
queries.py.

The few statements that take identifiers or fragments are functions; each says where they come
from (never from a request).
"""

from __future__ import annotations


def quote(name: str) -> str:
    """A table or column name as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


# --- the destruction's transaction (destruction.py) -------------------------------------------

# The subject, locked for the whole destruction.
SUBJECT_LOCK = "SELECT id, destroyed_at FROM subject WHERE id = $1 FOR UPDATE"
# The names of the subject's profile fields (those in $2, if given), for the log and the act.
PROFILE_FIELD_NAMES = (
    "SELECT field FROM subject_field WHERE subject_id = $1"
    " AND ($2::text[] IS NULL OR field = ANY($2::text[])) ORDER BY field"
)
# The subject is marked destroyed (the row stays: a pseudonymous id the log refers to).
SUBJECT_DESTROYED = "UPDATE subject SET destroyed_at = now() WHERE id = $1"
# The transaction's time: the act's date is the destruction's.
NOW = "SELECT now()"


def scrub(table: str, column: str) -> str:
    """In one shared free-text column, the value $1 becomes $2 wherever it occurs; counts the
    texts changed."""
    # table and column are registry.SCRUBBED's names, declared in code, quoted.
    table, column = quote(table), quote(column)
    return (
        f"WITH c AS (UPDATE {table} SET {column} = replace({column}, $1, $2)"  # noqa: S608 — see above
        f" WHERE strpos({column}, $1) > 0 RETURNING 1) SELECT count(*) FROM c"
    )


# Profile fields $2 of the subject removed as rows; counts them.
FIELDS_DELETE = (
    "WITH gone AS (DELETE FROM subject_field WHERE subject_id = $1"
    " AND field = ANY($2::text[]) RETURNING 1) SELECT count(*) FROM gone"
)
# A conversation's messages whose texts may carry the destroyed fields' values.
MESSAGES_TO_MASK = (
    "SELECT seq, body, author_kind, form FROM message WHERE conversation_id = $1"
    " AND author_kind IN ('subject', 'staff', 'bot') ORDER BY seq"
)
# One message with the values masked ($3), a new version ($4), and its form's masked value
# dropped when the form asked for a destroyed field ($5).
MESSAGE_MASK = (
    "UPDATE message SET body = $3, version = $4,"
    " form = CASE WHEN $5 THEN form - 'display' ELSE form END"
    " WHERE conversation_id = $1 AND seq = $2"
)
# A conversation's version, announced to open chats after commit.
CONVERSATION_VERSION = "SELECT last_version FROM conversation WHERE id = $1"

# --- verification.py --------------------------------------------------------------------------

# The subject's conversations and requests: the rows that count as their own.
CONVERSATIONS_OF = "SELECT id FROM conversation WHERE subject_id = $1"
REQUESTS_OF = "SELECT id FROM rights_request WHERE subject_id = $1"
# Profile values to look for afterwards (only the fields $2, if given).
PROFILE_VALUES = (
    "SELECT field, value FROM subject_field WHERE subject_id = $1"
    " AND ($2::text[] IS NULL OR field = ANY($2::text[]))"
)
# What the client and the operators wrote in the subject's conversations.
MESSAGE_BODIES = (
    "SELECT body FROM message WHERE conversation_id = ANY($1::bigint[])"
    " AND author_kind IN ('subject', 'staff')"
)
# The attachments' names and files in the subject's conversations.
ATTACHMENT_FILES = "SELECT name, path FROM attachment WHERE conversation_id = ANY($1::bigint[])"
# The identifying details and texts of the subject's requests.
REQUEST_TEXTS = "SELECT requester, details FROM rights_request WHERE subject_id = $1"
# The operators' tags on the subject's conversations.
CONVERSATION_TAGS = "SELECT unnest(tags) AS tag FROM conversation WHERE id = ANY($1::bigint[])"
# The subject's reviews.
REVIEW_BODIES = "SELECT body FROM review WHERE subject_id = $1"
# Messages of the subject's conversations with their attachments, marked old (before $2).
MESSAGES_AGED = (
    "SELECT m.body, m.created_at < $2 AS old, a.name, a.path FROM message m"
    " LEFT JOIN attachment a ON a.id = m.attachment_id"
    " WHERE m.conversation_id = ANY($1::bigint[]) AND m.author_kind IN ('subject', 'staff')"
)
# Every column of every table of the schema, with its type: what the search walks.
SEARCHED_COLUMNS = (
    "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c"
    " JOIN information_schema.tables t"
    "  ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
    " WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'"
    " ORDER BY c.table_name, c.ordinal_position"
)
# Every column name by table (views too): which tables tie a row to a subject.
ALL_COLUMNS = (
    "SELECT table_name, column_name FROM information_schema.columns"
    " WHERE table_schema = current_schema()"
)


def search(table: str, scope: str, match: str) -> str:
    """Which of the forms $1 occur in ``table`` (as x) in the rows ``scope`` picks, by ``match``;
    p carries the subject $2, their conversations $3 and their requests $4."""
    # table comes from information_schema, quoted; scope and match are made of SEARCH_SCOPES,
    # OWN_ROWS and SEARCH_TEXT/SEARCH_BYTES with a quoted column name; values are parameters.
    return (
        "WITH p AS (SELECT $2::uuid AS s, $3::bigint[] AS c, $4::bigint[] AS r)"  # noqa: S608 — see above
        " SELECT DISTINCT v.i FROM p, unnest($1::text[]) WITH ORDINALITY AS v(form, i)"
        f" WHERE EXISTS (SELECT 1 FROM {quote(table)} x WHERE {scope} AND {match})"
    )


# A row of table x is the subject's own by the column that ties it to them.
OWN_ROWS = {
    "subject_id": "x.subject_id::text = p.s::text",
    "conversation_id": "x.conversation_id::text = ANY(p.c::text[])",
    "request_id": "x.request_id::text = ANY(p.r::text[])",
}
# search's ``scope`` by mode, over {mine} (the OR of the table's OWN_ROWS, or false).
SEARCH_SCOPES = {"all": "true", "inside": "{mine}", "outside": "NOT coalesce({mine}, false)"}
# search's ``match`` for a text or JSON column, and for a bytea one, on the quoted {column}.
SEARCH_TEXT = "strpos(x.{column}::text, v.form) > 0"
SEARCH_BYTES = "position(convert_to(v.form, 'UTF8') in x.{column}) > 0"

# --- compaction.py (the schema owner's own connection) ----------------------------------------

# One compaction at a time across workers (a session advisory lock on $1).
TRY_LOCK = "SELECT pg_try_advisory_lock($1)"
UNLOCK = "SELECT pg_advisory_unlock($1)"
# The acts whose tables still wait for their rewrite.
COMPACTION_PENDING = (
    "SELECT act_id, tables FROM erasure_compaction WHERE done_at IS NULL ORDER BY act_id"
)
# The schema's tables now (one dropped since an act is skipped).
BASE_TABLES = (
    "SELECT table_name FROM information_schema.tables"
    " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
)
# While VACUUM waits for its lock, writers queue behind it: it gives up after 2 s.
SET_LOCK_TIMEOUT = "SET lock_timeout = '2s'"
RESET_LOCK_TIMEOUT = "RESET lock_timeout"


def vacuum_full(table: str) -> str:
    """Rewrites ``table`` without its dead row versions (VACUUM takes no parameters)."""
    return f"VACUUM (FULL, ANALYZE) {quote(table)}"


# The acts $1 wait on: one more attempt, and the error's class ($2).
COMPACTION_FAILED = (
    "UPDATE erasure_compaction SET attempts = attempts + 1, last_error = $2"
    " WHERE act_id = ANY($1::bigint[])"
)
# The acts $1 are done.
COMPACTION_DONE = (
    "UPDATE erasure_compaction SET attempts = attempts + 1, last_error = NULL,"
    " done_at = now() WHERE act_id = ANY($1::bigint[])"
)
# An act's rewrite, on the caller's connection (the act page, the tests).
COMPACTION_STATUS = (
    "SELECT tables, requested_at, attempts, last_error, done_at FROM erasure_compaction"
    " WHERE act_id = $1"
)

# --- acts.py ----------------------------------------------------------------------------------

# The act's number, taken before the act is written: the act's text states it.
NEXT_ACT_ID = "SELECT nextval('destruction_act_id_seq')"

# --- restore.py -------------------------------------------------------------------------------

# Whether a restored subject is destroyed, and which profile fields they have now.
SUBJECT_STATE = (
    "SELECT destroyed_at, (SELECT array_agg(field) FROM subject_field f"
    "  WHERE f.subject_id = s.id) AS fields FROM subject s WHERE s.id = $1"
)

# --- retention.py (the run's lock is held on a connection of its own) -------------------------

# The run is recorded on the lock's connection, so it is there even if the pool is not.
RUN_START = "INSERT INTO retention_run (started_by) VALUES ($1) RETURNING id"
RUN_FINISH = "UPDATE retention_run SET finished_at = now(), summary = $2, error = $3 WHERE id = $1"
# Withdrawals (not replaced by a newer version) of subjects not destroyed that have no
# consent_withdrawn request yet.
WITHDRAWALS_UNREGISTERED = (
    "SELECT w.subject_id, w.given_id, w.purpose_code, w.at FROM consent_event w"
    " JOIN subject s ON s.id = w.subject_id AND s.destroyed_at IS NULL"
    " WHERE w.kind = 'withdrawn' AND coalesce((w.details->>'superseded')::boolean, false)"
    " = false AND NOT EXISTS (SELECT 1 FROM rights_request r"
    "  WHERE r.kind = 'consent_withdrawn' AND r.consent_id = w.given_id)"
    " ORDER BY w.id"
)
# The profile fields the subject $1 gave under the consent $2.
CONSENT_FIELDS = (
    "SELECT field FROM subject_field WHERE subject_id = $1 AND consent_id = $2 ORDER BY field"
)
# Open requests of the kinds $1 whose last day ($2 ahead of due) has come by $3.
DUE_REQUESTS = (
    "SELECT r.id, r.kind, r.subject_id, r.details, r.consent_id FROM rights_request r"
    " JOIN subject s ON s.id = r.subject_id"
    " WHERE r.kind = ANY($1::text[]) AND r.status NOT IN ('refused', 'done')"
    " AND r.due_at - $2::interval <= $3 ORDER BY r.due_at"
)
# How many of the fields $2 the subject $1 still has.
FIELDS_PRESENT = (
    "SELECT count(*) FROM subject_field WHERE subject_id = $1 AND field = ANY($2::text[])"
)
# Profile fields whose retention term has passed by $1, by subject (not destroyed).
EXPIRED_FIELDS = (
    "SELECT f.subject_id, array_agg(f.field ORDER BY f.field) AS fields"
    " FROM subject_field f JOIN subject s ON s.id = f.subject_id"
    " WHERE f.retain_until <= $1 AND s.destroyed_at IS NULL GROUP BY f.subject_id"
)
# How many profile fields' terms have passed by $1 (the console's preview of a run).
EXPIRED_FIELDS_COUNT = (
    "SELECT count(*) FROM subject_field f JOIN subject s ON s.id = f.subject_id"
    " WHERE f.retain_until <= $1 AND s.destroyed_at IS NULL"
)
# The term, in days, of a purpose ($1): the support purpose's bounds how long messages stay.
PURPOSE_TERM = "SELECT retention_days FROM purpose WHERE code = $1"
# Subjects (not destroyed) with a text (not yet the tombstone $2) or a file in a message
# written before $1.
OLD_MESSAGE_SUBJECTS = (
    "SELECT DISTINCT c.subject_id FROM message m"
    " JOIN conversation c ON c.id = m.conversation_id"
    " JOIN subject s ON s.id = c.subject_id AND s.destroyed_at IS NULL"
    " LEFT JOIN attachment a ON a.id = m.attachment_id"
    " WHERE m.created_at < $1 AND m.author_kind IN ('subject', 'staff')"
    " AND (m.body NOT IN ('', $2) OR a.path IS NOT NULL)"
)

# Every act, for the destructions' journal before a restore replaces the database
# (journal.take_from): read on the restore's own connection, before okno's pool exists.
ACTS_FOR_JOURNAL = (
    "SELECT id, sha256, subject_id, scope, act::text AS act, created_at"
    " FROM destruction_act ORDER BY id"
)

# The files other subjects' and staff's attachments still name: theirs, whatever they contain
# (a picture two clients both sent is not a copy of the destroyed one's).
KEPT_ATTACHMENT_FILES = "SELECT path FROM attachment WHERE path IS NOT NULL"
