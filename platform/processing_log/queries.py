"""The processing log's hand-written SQL: the append, the sealer, the chain's walk.

These are the hot paths the benchmark guards. The append is two CTEs that join the caller's
own statement (an act done in one statement logs itself in it), with one VALUES row per entry;
the sealer moves a batch out of the queue and reads it in one statement, then COPYs the links.
The query builder can say neither. Texts are built once, at import, from this module's own
constants: no value ever enters them (values are parameters).
"""

from __future__ import annotations

SEAL_BATCH = 5000
# The columns a row is written with, and their types: the values are cast because rows are
# selected from VALUES (so that a statement can write them conditionally). Their order is the
# order the chain's digest hashes them in (okno.platform.processing_log.service._digest).
WRITTEN_TYPES = {
    "at": "timestamptz",
    "actor_kind": "text",
    "actor_id": "text",
    "subject_id": "uuid",
    "action": "text",
    "categories": "text[]",
    "fields": "text[]",
    "purpose": "text",
    "legal_basis": "text",
    "request_id": "bigint",
    "reason": "text",
}
WRITTEN = ", ".join(WRITTEN_TYPES)
COLUMNS = f"id, {WRITTEN}"


def append_ctes(rows: list[str], when: str) -> str:
    """``written`` (processing_log rows from ``rows``, VALUES tuples of casted parameters, kept
    when ``when`` holds) and ``queued`` (their ids in processing_log_unsealed)."""
    return (
        f"written AS (INSERT INTO processing_log ({WRITTEN})"  # noqa: S608 — WRITTEN is this module's column list; rows are "($n::type, ...)" placeholders built by service.appending and `when` is a condition fixed in the caller's code, never a value
        f" SELECT * FROM (VALUES {', '.join(rows)}) AS entry WHERE {when} RETURNING id),"
        " queued AS (INSERT INTO processing_log_unsealed (log_id) SELECT id FROM written)"
    )


def record(ctes: str) -> str:
    """A statement of nothing but the append: the new rows' ids, in order."""
    return f"WITH {ctes} SELECT id FROM written ORDER BY id"  # noqa: S608 — ctes come from append_ctes


# One sealer at a time extends the chain (a transaction-scoped advisory lock on SEALER_LOCK):
# wait for it, or give up at once when another holds it.
SEALER_WAIT = "SELECT pg_advisory_xact_lock($1)"
SEALER_TRY = "SELECT pg_try_advisory_xact_lock($1)"

# Take the oldest batch of committed rows out of the queue and read them in id order.
SEAL_TAKE = (
    f"WITH taken AS (DELETE FROM processing_log_unsealed WHERE log_id IN"  # noqa: S608 — SEAL_BATCH and COLUMNS are this module's constants
    f" (SELECT log_id FROM processing_log_unsealed ORDER BY log_id LIMIT {SEAL_BATCH})"
    f" RETURNING log_id)"
    f" SELECT {COLUMNS} FROM processing_log WHERE id IN (SELECT log_id FROM taken)"
    f" ORDER BY id"
)

# The newest link of processing_log_chain (its head).
CHAIN_HEAD = (
    "SELECT position, log_id, hash FROM processing_log_chain ORDER BY position DESC LIMIT 1"
)
# The head as the sealer continues from it.
SEAL_HEAD = "SELECT position, hash FROM processing_log_chain ORDER BY position DESC LIMIT 1"

# Every link of the chain in order with the row it seals (NULLs when the row is gone).
CHAIN_WALK = (
    f"SELECT c.position, c.log_id, c.prev_hash, c.hash, l.{COLUMNS.replace(', ', ', l.')}"  # noqa: S608 — COLUMNS is this module's constant
    " FROM processing_log_chain c LEFT JOIN processing_log l ON l.id = c.log_id"
    " ORDER BY c.position"
)

# The first row that is neither chained nor waiting in the queue: written around the sealer.
STRAY_ROW = (
    "SELECT min(l.id) FROM processing_log l WHERE NOT EXISTS"
    " (SELECT 1 FROM processing_log_chain c WHERE c.log_id = l.id)"
    " AND NOT EXISTS (SELECT 1 FROM processing_log_unsealed u WHERE u.log_id = l.id)"
)

# One subject's rows, oldest first, as the chain hashes them.
SUBJECT_ROWS = f"SELECT {COLUMNS} FROM processing_log WHERE subject_id = $1 ORDER BY id"  # noqa: S608 — COLUMNS is this module's constant
