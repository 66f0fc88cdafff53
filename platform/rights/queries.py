"""The hand-written SQL of subjects' requests and blocking.

Why hand-written: requests.py's functions run on the connection their caller passes (the
caller's transaction, in which consent withdrawals, portal requests and the retention job write
a request together with other rows, or a read connection it holds), which Piccolo's builder
cannot be handed; the rest reads or changes other features' tables (subject, subject_field,
consent_event, message, staff_user, processing_log) in the caller's transaction, with
conditional updates and joins. Reads the DPO console makes of rights_request and
destruction_act alone use Piccolo (service.py).
"""

from __future__ import annotations

# --- rights_request and rights_request_event (requests.py) ------------------------------------

# A new request; returns it whole (the columns of requests.Request, in its order).
REQUEST_INSERT = (
    "INSERT INTO rights_request (subject_id, kind, channel, details, requester, purpose_code,"
    " consent_id, received_at, due_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    " RETURNING id, subject_id, kind, status, channel, purpose_code, consent_id, details,"
    " requester, received_at, due_at, extended_at, extension_reason, decided_by,"
    " decision_reason, answer, completed_at"
)
# One request by id.
REQUEST = (
    "SELECT id, subject_id, kind, status, channel, purpose_code, consent_id, details, requester,"
    " received_at, due_at, extended_at, extension_reason, decided_by, decision_reason, answer,"
    " completed_at FROM rights_request WHERE id = $1"
)
# One request by id, locked for a transition.
REQUEST_LOCKED = (
    "SELECT id, subject_id, kind, status, channel, purpose_code, consent_id, details, requester,"
    " received_at, due_at, extended_at, extension_reason, decided_by, decision_reason, answer,"
    " completed_at FROM rights_request WHERE id = $1 FOR UPDATE"
)
# A subject's requests, newest first.
REQUESTS_OF_SUBJECT = (
    "SELECT id, subject_id, kind, status, channel, purpose_code, consent_id, details, requester,"
    " received_at, due_at, extended_at, extension_reason, decided_by, decision_reason, answer,"
    " completed_at FROM rights_request WHERE subject_id = $1 ORDER BY received_at DESC"
)
# A request moves to $2: approval and refusal record who decided ($3); $4 and $5 keep the old
# reason and answer when not given; closing stamps the time.
REQUEST_TRANSITION = (
    "UPDATE rights_request SET status = $2,"
    " decided_by = CASE WHEN $2 IN ('approved', 'refused') THEN $3 ELSE decided_by END,"
    " decision_reason = coalesce($4, decision_reason), answer = coalesce($5, answer),"
    " completed_at = CASE WHEN $2 IN ('refused', 'done') THEN now() END"
    " WHERE id = $1 RETURNING id, subject_id, kind, status, channel, purpose_code, consent_id,"
    " details, requester, received_at, due_at, extended_at, extension_reason, decided_by,"
    " decision_reason, answer, completed_at"
)
# The one extension: a new due moment ($2) with its reason ($3).
REQUEST_EXTEND = (
    "UPDATE rights_request SET due_at = $2, extended_at = now(), extension_reason = $3"
    " WHERE id = $1 RETURNING id, subject_id, kind, status, channel, purpose_code, consent_id,"
    " details, requester, received_at, due_at, extended_at, extension_reason, decided_by,"
    " decision_reason, answer, completed_at"
)
# A letter's request is tied to the subject okno knows.
REQUEST_SUBJECT_SET = "UPDATE rights_request SET subject_id = $2 WHERE id = $1"
# When the subject last asked for access (a refused request does not count): Art. 14 p.4.
LAST_ACCESS_REQUEST = (
    "SELECT max(received_at) FROM rights_request WHERE subject_id = $1 AND kind = 'access'"
    " AND status <> 'refused'"
)
# One event of a request's history (append-only).
EVENT_INSERT = (
    "INSERT INTO rights_request_event (request_id, actor_kind, actor_id, from_status,"
    " to_status, note, notice_to_subject) VALUES ($1, $2, $3, $4, $5, $6, $7)"
)
# A request's history in order, staff by pseudonym.
HISTORY = (
    "SELECT e.at, e.actor_kind, e.from_status, e.to_status, e.note, e.notice_to_subject,"
    " u.pseudonym AS actor_pseudonym FROM rights_request_event e"
    " LEFT JOIN staff_user u ON u.id = e.actor_id WHERE e.request_id = $1 ORDER BY e.id"
)

# --- executing requests (handling.py) ---------------------------------------------------------

# Whether okno knows the subject $1.
SUBJECT_EXISTS = "SELECT 1 FROM subject WHERE id = $1"
# A profile field clarified with the proven value; returns its purpose for the log.
FIELD_CLARIFY = (
    "UPDATE subject_field SET value = $3, updated_at = now() WHERE subject_id = $1"
    " AND field = $2 RETURNING purpose"
)
# The access answer (Art. 14 p.7): the profile with each field's purpose and basis,
ACCESS_PROFILE = (
    "SELECT f.field, f.value, f.purpose, f.collected_at, f.retain_until, f.source,"
    " p.name AS purpose_name, p.legal_basis FROM subject_field f"
    " LEFT JOIN purpose p ON p.code = f.purpose WHERE f.subject_id = $1 ORDER BY f.field"
)
# ... the consents given and when each was withdrawn,
ACCESS_CONSENTS = (
    "SELECT g.id, g.purpose_code, g.at, g.channel, w.at AS withdrawn_at FROM consent_event g"
    " LEFT JOIN consent_event w ON w.given_id = g.id"
    " WHERE g.subject_id = $1 AND g.kind = 'given' ORDER BY g.id"
)
# ... and the correspondence (not internal notes, not deleted messages), staff by role.
ACCESS_MESSAGES = (
    "SELECT m.seq, m.author_kind, u.role, u.pseudonym, m.body, m.created_at, m.edited_at,"
    " a.name AS attachment FROM message m JOIN conversation c ON c.id = m.conversation_id"
    " LEFT JOIN staff_user u ON u.id = m.author_id"
    " LEFT JOIN attachment a ON a.id = m.attachment_id"
    " WHERE c.subject_id = $1 AND NOT m.internal AND m.deleted_at IS NULL"
    " AND m.author_kind IN ('subject', 'staff') ORDER BY m.seq"
)

# --- blocking.py ------------------------------------------------------------------------------

# Whether the whole subject is blocked.
SUBJECT_BLOCKED_AT = "SELECT blocked_at FROM subject WHERE id = $1"
# The subject's blocked profile fields.
BLOCKED_FIELDS = (
    "SELECT field FROM subject_field WHERE subject_id = $1 AND blocked_at IS NOT NULL"
    " ORDER BY field"
)
# The subject, locked while its blocking changes.
SUBJECT_LOCK = "SELECT blocked_at, destroyed_at FROM subject WHERE id = $1 FOR UPDATE"
# The whole subject blocked ($2 true; an earlier block keeps its time) or unblocked.
SUBJECT_BLOCK = (
    "UPDATE subject SET blocked_at = CASE WHEN $2 THEN coalesce(blocked_at, now())"
    " END WHERE id = $1"
)
# Profile fields ($2, or all) blocked ($3 true) or unblocked; returns those that changed.
FIELDS_BLOCK = (
    "UPDATE subject_field SET blocked_at = CASE WHEN $3 THEN now() END"
    " WHERE subject_id = $1 AND ($2::text[] IS NULL OR field = ANY($2::text[]))"
    " AND (blocked_at IS NULL) = $3 RETURNING field"
)

# --- the DPO console (service.py) -------------------------------------------------------------

# The subject's profile: names, purposes, terms and blocking, never values.
PROFILE_FIELDS = (
    "SELECT field, purpose, collected_at, retain_until, blocked_at FROM subject_field"
    " WHERE subject_id = $1 ORDER BY field"
)
# The subject by pseudonymous id: when first seen, blocked, destroyed.
SUBJECT = "SELECT id, created_at, blocked_at, destroyed_at FROM subject WHERE id = $1"
# The subject of a conversation («Клиент #7»).
SUBJECT_OF_CONVERSATION = "SELECT subject_id FROM conversation WHERE id = $1"
# The subject's conversation.
CONVERSATION_OF_SUBJECT = "SELECT id FROM conversation WHERE subject_id = $1"
# The processing log filtered: subject ($1), action ($2), actor kind and id ($3, $4), purpose
# ($5), from $6 up to $7, newest first, at most $8 rows ('' means any).
LOG_SEARCH = (
    "SELECT id, at, actor_kind, actor_id, subject_id, action, categories, fields, purpose,"
    " legal_basis, request_id, reason FROM processing_log"
    " WHERE ($1::uuid IS NULL OR subject_id = $1) AND ($2 = '' OR action = $2)"
    " AND ($3 = '' OR actor_kind = $3) AND ($4 = '' OR actor_id = $4)"
    " AND ($5 = '' OR purpose = $5) AND at >= $6 AND at < $7"
    " ORDER BY id DESC LIMIT $8"
)

# --- the rights eraser (erasure.py) ----------------------------------------------------------

# Hand-written: the eraser runs on the connection of destruction's transaction, with jsonb
# operators, FILTER aggregates and a CTE that counts what it changed.

# What the subject's written requests identified them by, counted for the act.
RIGHTS_LETTER_COUNTS = (
    "SELECT count(*) FILTER (WHERE requester ? 'full_name') AS names,"
    " count(*) FILTER (WHERE requester ? 'document') AS documents,"
    " count(*) FILTER (WHERE requester ? 'address') AS addresses"
    " FROM rights_request WHERE subject_id = $1"
)
# The subject's requests keep kind, status and dates; details and free texts become $2.
RIGHTS_REQUESTS_REDACT = (
    "WITH changed AS (UPDATE rights_request SET details = '{}', requester = '{}',"
    " answer = CASE WHEN answer IS NULL THEN NULL ELSE $2 END,"
    " decision_reason = CASE WHEN decision_reason IS NULL THEN NULL ELSE $2 END,"
    " extension_reason = CASE WHEN extension_reason IS NULL THEN NULL ELSE $2 END"
    " WHERE subject_id = $1 RETURNING 1) SELECT count(*) FROM changed"
)
# Their requests' events keep the transitions; note and notice become $2 (the trigger allows it).
RIGHTS_EVENTS_REDACT = (
    "UPDATE rights_request_event SET"
    " note = CASE WHEN note IS NULL THEN NULL ELSE $2 END,"
    " notice_to_subject = CASE WHEN notice_to_subject IS NULL THEN NULL ELSE $2 END"
    " WHERE request_id IN (SELECT id FROM rights_request WHERE subject_id = $1)"
    " AND (note <> $2 OR notice_to_subject <> $2)"
)
