"""The chat's hand-written SQL, each statement named, with what it does and why it is not the
query builder's.

Most of it is on the per-message path or among the hub's batch reads (the benchmark guards
their text), or runs on a connection the caller holds: a transaction's, passed down, or one of
the hub's own pool, which Piccolo's engine does not know. The rest needs what the builder
lacks: CTEs, LATERAL joins, row locks, window functions, upserts on the database's clock.
Tables: conversation, message, attachment, visitor, staff_presence (okno.platform.chat.tables);
team, team_member, topic (teams); staff_user, staff_session (staff); subject (subjects).
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import Column

from okno.platform import database
from okno.platform.chat.scope import SEES_ALL
from okno.platform.reports.queries import SLA_CLOCK
from okno.platform.staff.roles import Role

# The database's clock for a builder's value: rows compared with now() in SQL (presence,
# queues, windows) must not mix in the application's clock.
NOW = database.NOW
Values = dict[Column | str, Any]  # what a builder's update sets


def _roles(roles: frozenset[Role]) -> str:
    return "(" + ", ".join(f"'{role.value}'" for role in sorted(roles)) + ")"


# ---------------------------------------------------------------- the staff scope

SEES_ALL_SQL = _roles(SEES_ALL)
# The teams a staff member ({staff}, an SQL expression) belongs to.
STAFF_TEAMS = "SELECT tm.team_id FROM team_member tm WHERE tm.staff_id = {staff}"


def staff_scope(staff: str, sees_all: str) -> str:
    """The staff scope in SQL: whether the staff member ``staff`` may see conversation ``c``,
    given ``sees_all``, a boolean SQL expression of their role (``SEES_ALL_SQL``) or a
    parameter carrying ``Scope.sees_all``. ``Scope.admits`` is the same rule for rows in hand."""
    teams = STAFF_TEAMS.format(staff=staff)
    return f"({sees_all} OR c.assignee_id = {staff} OR c.team_id IN ({teams}))"


# A staff member's teams, for their scope: the builder cannot share STAFF_TEAMS's text.
TEAMS_OF_STAFF = STAFF_TEAMS.format(staff="$1")

# Many sockets' sessions in one query (the hub re-checks them together); {valid} is
# staff.queries.session_valid(), the one rule for a session that still counts.
SESSIONS_NOW = f"""
SELECT s.token_hash, u.id, u.role, s.expires_at,
       ARRAY({STAFF_TEAMS.format(staff="u.id")}) AS teams
FROM staff_session s JOIN staff_user u ON u.id = s.user_id
WHERE s.token_hash = ANY($1::bytea[]) AND {{valid}}
"""  # noqa: S608 — only the fixed STAFF_TEAMS text is interpolated

# One round trip on every staff frame that names a conversation: the conversation, whether its
# subject is blocked, and who asks as they are now: a socket's session ($3) must still be
# valid ({valid}, as in SESSIONS_NOW), and role and teams are read afresh.
VISIBLE_CONVERSATION = f"""
SELECT c.id, c.subject_id, c.team_id, c.assignee_id, c.status,
       coalesce(sub.blocked_at IS NOT NULL, false) AS blocked, who.role,
       {staff_scope("$2", f"who.role IN {SEES_ALL_SQL}")} AS admitted
FROM (SELECT 1) AS one
LEFT JOIN conversation c ON c.id = $1
LEFT JOIN subject sub ON sub.id = c.subject_id
LEFT JOIN LATERAL (
    SELECT u.role FROM staff_user u WHERE u.id = $2 AND u.disabled_at IS NULL AND $3::bytea IS NULL
    UNION ALL
    SELECT u.role FROM staff_session s JOIN staff_user u ON u.id = s.user_id
    WHERE s.token_hash = $3 AND u.id = $2 AND {{valid}}
) who ON true
"""  # noqa: S608 — only the fixed scope fragment and role list are interpolated


# ---------------------------------------------------------------- sending


def _advance(author_kind: str) -> str:
    """The SET clause that moves a conversation on by one message of ``author_kind`` (an SQL
    expression): counters, unread, and status. A client writing reopens a pending or resolved
    conversation; an unassigned one that is not resolved waits, since its first such message.
    A client writing also ends a snooze: the chat is back in the lists with its new message."""
    status = (
        f"CASE WHEN {author_kind} = 'subject' AND c.status IN ('pending', 'resolved')"
        " THEN CASE WHEN c.assignee_id IS NULL THEN 'new' ELSE 'open' END ELSE c.status END"
    )
    return (
        "last_seq = c.last_seq + 1, last_version = c.last_version + 1, updated_at = now(),"
        f" staff_unread = c.staff_unread + CASE WHEN {author_kind} = 'subject' THEN 1 ELSE 0 END,"
        f" status = {status},"
        f" snoozed_until = CASE WHEN {author_kind} = 'subject' THEN NULL ELSE c.snoozed_until END,"
        f" snoozed_by = CASE WHEN {author_kind} = 'subject' THEN NULL ELSE c.snoozed_by END,"
        f" waiting_since = CASE WHEN c.assignee_id IS NULL AND {status} <> 'resolved'"
        " THEN coalesce(c.waiting_since, now()) END"
    )


# A client's plain text in one statement, so one round trip (service._client_send_plain): the
# steps of client_send and _store. The row lock of ``target`` is taken before ``counters``
# updates the row, which then sees its latest version; ``earlier`` reads the statement's
# snapshot, and the unique (conversation, client_id) constraint catches a same-id send
# committed since (then the general way answers). {logged}: processing_log.appending's CTEs.
CLIENT_SEND_PLAIN = f"""
WITH target AS (
    SELECT c.id FROM visitor v JOIN conversation c ON c.subject_id = v.subject_id
    WHERE v.token_hash = $1 FOR UPDATE OF c
), earlier AS (
    SELECT m.conversation_id, m.seq, m.version FROM message m
    WHERE m.conversation_id = (SELECT id FROM target) AND m.client_id = $2
), counters AS (
    UPDATE conversation c SET {_advance("'subject'")}
    FROM target WHERE c.id = target.id AND NOT EXISTS (SELECT 1 FROM earlier)
    RETURNING c.id, c.last_seq, c.last_version
), stored AS (
    INSERT INTO message (conversation_id, seq, version, client_id, author_kind, body)
    SELECT id, last_seq, last_version, $2, 'subject', $3 FROM counters
    RETURNING conversation_id, seq, version
), {{logged}}{{webhook}}
SELECT conversation_id, seq, version FROM stored
UNION ALL SELECT conversation_id, seq, version FROM earlier
"""  # noqa: S608 — only _advance's fixed SET clause is interpolated
# Its processing-log rows are written only when the message was stored, not for a resend.
CLIENT_SEND_PLAIN_LOGS = "EXISTS (SELECT 1 FROM stored)"

# One message into a conversation the caller holds locked, in one round trip: a repeated
# client_id returns the earlier message; otherwise the counters move on and the message takes
# them. The row lock means no concurrent send can slip a same-id message in between.
STORE_MESSAGE = f"""
WITH earlier AS (
    SELECT seq, version FROM message WHERE conversation_id = $1 AND client_id = $2
), counters AS (
    UPDATE conversation c SET {_advance("$3::text")}
    WHERE c.id = $1 AND NOT EXISTS (SELECT 1 FROM earlier)
    RETURNING c.last_seq, c.last_version
), stored AS (
    INSERT INTO message (conversation_id, seq, version, client_id, author_kind, author_id,
        body, reply_to, attachment_id, buttons, internal)
    SELECT $1, last_seq, last_version, $2, $3::text, $4::bigint, $5::text, $6::bigint,
        $7::text, $8::jsonb, $9::boolean
    FROM counters
    RETURNING seq, version
)
SELECT seq, version, true AS fresh FROM stored
UNION ALL SELECT seq, version, false FROM earlier
"""  # noqa: S608 — only _advance's fixed SET clause is interpolated

# What a send needs of the conversation, row-locked for the rest of its transaction (every
# change of a conversation's counters takes this lock first).
CONVERSATION_LOCKED = "id, subject_id, status, assignee_id, team_id, last_seq, last_version"
LOCK_CONVERSATION = f"SELECT {CONVERSATION_LOCKED} FROM conversation WHERE id = $1 FOR UPDATE"  # noqa: S608 — fixed column list
LOCK_SUBJECTS_CONVERSATION = (
    f"SELECT {CONVERSATION_LOCKED} FROM conversation WHERE subject_id = $1 FOR UPDATE"  # noqa: S608 — fixed column list
)
# The same, found from the visitor's cookie hash (a client's send the general way).
LOCK_VISITORS_CONVERSATION = (
    f"SELECT {', '.join(f'c.{c}' for c in CONVERSATION_LOCKED.split(', '))} FROM visitor v"  # noqa: S608 — fixed column list
    " JOIN conversation c ON c.subject_id = v.subject_id"
    " WHERE v.token_hash = $1 FOR UPDATE OF c"
)
# The visitor row, locked, so two tabs sending their first messages at once make one subject.
LOCK_VISITOR = "SELECT subject_id, topic_id FROM visitor WHERE token_hash = $1 FOR UPDATE"

# A new subject, its visitor pointing at it, and its conversation waiting in its team's queue
# (start_conversation, on the caller's connection; waiting_since is the database's clock, as
# every queue comparison is).
NEW_SUBJECT = "INSERT INTO subject (id) VALUES ($1)"
BIND_VISITOR = "UPDATE visitor SET subject_id = $2 WHERE token_hash = $1"
TOPICS_TEAM = "SELECT team_id FROM topic WHERE id = $1"
DEFAULT_TEAM = "SELECT id FROM team WHERE is_default"
NEW_CONVERSATION = (
    "INSERT INTO conversation (subject_id, topic_id, team_id, waiting_since)"
    " VALUES ($1, $2, $3, now()) RETURNING id"
)

# A resend with the same client_id: the message its first send stored, if any.
EARLIER_SEND = "SELECT seq, version FROM message WHERE conversation_id = $1 AND client_id = $2"
# Whether a reply's target exists, and whether it is an internal note.
REPLY_TARGET = "SELECT internal FROM message WHERE conversation_id = $1 AND seq = $2"

# A bot message's links, form and image, set in the caller's transaction after it is stored.
BOT_EXTRAS = (
    "UPDATE message SET links = $3, form = $4, attachment_id = $5"
    " WHERE conversation_id = $1 AND seq = $2"
)

# Read receipts, on every message shown. The row lock first: the staff side's recount then
# sees every message committed before it. One statement per side: the column is fixed text.
READ_LOCK = {
    "client": "SELECT id FROM conversation WHERE id = $1 AND client_read_seq < $2"
    " AND $2 <= last_seq FOR UPDATE",
    "staff": "SELECT id FROM conversation WHERE id = $1 AND staff_read_seq < $2"
    " AND $2 <= last_seq FOR UPDATE",
}
CLIENT_READ = "UPDATE conversation SET client_read_seq = $2 WHERE id = $1"
# Staff read up to $2: what they have not read is recounted, not decremented.
STAFF_READ = (
    "UPDATE conversation SET staff_read_seq = $2, staff_unread = (SELECT count(*)"
    " FROM message WHERE conversation_id = $1 AND author_kind = 'subject'"
    " AND seq > $2) WHERE id = $1"
)

# ---------------------------------------------------------------- staff actions

# A conversation handed to a staff member moves to their first team (if they have one).
TO_STAFFS_TEAM = (
    "UPDATE conversation SET team_id = coalesce("
    " (SELECT min(team_id) FROM team_member WHERE staff_id = $2), team_id)"
    " WHERE id = $1"
)
# A conversation handed to a team waits in its queue, unassigned (resolved stays resolved).
TO_TEAMS_QUEUE = (
    "UPDATE conversation SET team_id = $2, assignee_id = NULL, waiting_since = now(),"
    " status = CASE WHEN status = 'resolved' THEN status ELSE 'new' END WHERE id = $1"
)
# A new status; it waits in the queue (since when it first did) only unassigned and unresolved.
SET_STATUS = (
    "UPDATE conversation SET status = $2,"
    " waiting_since = CASE WHEN $3 THEN coalesce(waiting_since, now()) END WHERE id = $1"
)

# ---------------------------------------------------------------- assignment and presence

# Give the conversation to a staff member: it leaves the queue, and a new one opens.
ASSIGN = (
    "UPDATE conversation SET assignee_id = $2, waiting_since = NULL,"
    " status = CASE WHEN status = 'new' THEN 'open' ELSE status END WHERE id = $1"
)
# Their turn in round robin moves on (a row made for who never sent a heartbeat).
ASSIGNED_NOW = (
    "INSERT INTO staff_presence (staff_id, status, last_assigned_at)"
    " VALUES ($1, 'offline', now())"
    " ON CONFLICT (staff_id) DO UPDATE SET last_assigned_at = now()"
)
STAFF_NAME = "SELECT display_name FROM staff_user WHERE id = $1"
# A service line takes the conversation's next seq and version (its row is locked or new).
NOTE_COUNTERS = (
    "UPDATE conversation SET last_seq = last_seq + 1, last_version = last_version + 1,"
    " updated_at = now() WHERE id = $1 RETURNING last_seq, last_version"
)
NOTE = (
    "INSERT INTO message"
    " (conversation_id, seq, version, client_id, author_kind, body, internal)"
    " VALUES ($1, $2, $3, $4, 'system', $5, $6)"
)

# A staff member's presence as clients were last told it: a status, unless heartbeats stopped.
PRESENCE_SHOWN = (
    "SELECT CASE WHEN seen_at < now() - make_interval(secs => $2) THEN 'offline'"
    " ELSE status END FROM staff_presence WHERE staff_id = $1"
)
# A heartbeat or a change of status, on the database's clock (every timeout compares with it).
HEARTBEAT = (
    "INSERT INTO staff_presence (staff_id, status, seen_at) VALUES ($1, $2, now())"
    " ON CONFLICT (staff_id) DO UPDATE SET status = $2, seen_at = now()"
)
# One staff member whose heartbeats stopped before the sweep saw it (their worker died) goes
# offline before their next heartbeat, so their presence span ends at the last heartbeat
# (reports_0002) instead of running on across the gap.
PRESENCE_LAPSED = (
    "UPDATE staff_presence SET status = 'offline' WHERE staff_id = $1 AND status <> 'offline'"
    " AND seen_at < now() - make_interval(secs => $2)"
)
# Operators whose heartbeats stopped become offline; returns who changed.
SWEEP_PRESENCE = (
    "UPDATE staff_presence SET status = 'offline' WHERE status <> 'offline'"
    " AND seen_at < now() - make_interval(secs => $1) RETURNING staff_id"
)

# An online operator or supervisor of the team with room for one more chat. Round robin
# takes whoever was assigned longest ago; least loaded takes whoever holds fewest open chats
# first ($3), then the same turn order. Skips presence rows another worker is assigning.
CANDIDATE = """
SELECT u.id, u.display_name FROM staff_user u
JOIN team_member tm ON tm.staff_id = u.id AND tm.team_id = $1
JOIN staff_presence p ON p.staff_id = u.id
CROSS JOIN LATERAL (
    SELECT count(*) AS open FROM conversation c
    WHERE c.assignee_id = u.id AND c.status IN ('new', 'open', 'pending')
) load
WHERE p.status = 'online' AND p.seen_at >= now() - make_interval(secs => $2)
  AND u.disabled_at IS NULL AND u.role IN ('operator', 'supervisor')
  AND load.open < u.max_chats
ORDER BY CASE WHEN $3::boolean THEN load.open ELSE 0 END, p.last_assigned_at NULLS FIRST, u.id
LIMIT 1
FOR UPDATE OF p SKIP LOCKED
"""

# The oldest waiting conversation whose topic assigns automatically, leaving out the teams
# already found to have nobody free in this pass ($1) and those closed now ($2): one full team
# holds up no other. Blocked subjects wait for the DPO.
NEXT_WAITING = """
SELECT c.id, c.subject_id, c.status, c.assignee_id, c.team_id, c.last_seq, c.last_version,
       coalesce(t.assignment, 'round_robin') AS assignment
FROM conversation c LEFT JOIN topic t ON t.id = c.topic_id
WHERE c.assignee_id IS NULL AND c.waiting_since IS NOT NULL AND c.status <> 'resolved'
  AND coalesce(t.assignment, 'round_robin') <> 'manual'
  AND coalesce(c.team_id, 0) <> ALL($1::int[]) AND coalesce(c.team_id, 0) <> ALL($2::int[])
  AND NOT EXISTS (SELECT 1 FROM subject s WHERE s.id = c.subject_id AND s.blocked_at IS NOT NULL)
ORDER BY c.waiting_since LIMIT 1 FOR UPDATE OF c SKIP LOCKED
"""

# Which of the teams ($1) have an operator online now, busy or not (the client's state).
ONLINE_TEAMS = """
SELECT DISTINCT tm.team_id FROM team_member tm
JOIN staff_user u ON u.id = tm.staff_id
JOIN staff_presence p ON p.staff_id = tm.staff_id
WHERE tm.team_id = ANY($1::int[]) AND p.status = 'online'
  AND p.seen_at >= now() - make_interval(secs => $2)
  AND u.disabled_at IS NULL AND u.role IN ('operator', 'supervisor')
"""

# ---------------------------------------------------------------- messages as the wire shows them

MESSAGE_COLUMNS = """
m.conversation_id, m.seq, m.version, m.client_id, m.author_kind, m.author_id,
s.display_name AS author_name, m.body, m.reply_to, r.body AS reply_body,
r.author_kind AS reply_author_kind,
rs.display_name AS reply_author_name, r.internal AS reply_internal,
r.deleted_at AS reply_deleted_at, a.id AS attachment_id, a.name AS attachment_name,
a.size AS attachment_size, a.content_type AS attachment_type, a.image AS attachment_image,
m.buttons, m.links, m.form, m.internal, m.created_at, m.edited_at, m.deleted_at,
m.special_category IS NOT NULL AND m.special_decision IS DISTINCT FROM 'destroyed' AS special,
r.special_category IS NOT NULL AND r.special_decision IS DISTINCT FROM 'destroyed'
  AS reply_special,
(SELECT bs.blocked_at IS NOT NULL FROM conversation bc JOIN subject bs
  ON bs.id = bc.subject_id WHERE bc.id = m.conversation_id) AS subject_blocked
"""
MESSAGE_JOINS = """
LEFT JOIN staff_user s ON s.id = m.author_id
LEFT JOIN message r ON r.conversation_id = m.conversation_id AND r.seq = m.reply_to
LEFT JOIN staff_user rs ON rs.id = r.author_id
LEFT JOIN attachment a ON a.id = m.attachment_id AND m.deleted_at IS NULL AND a.path IS NOT NULL
"""
# A message row with its author's name, its quoted reply and its file: what messages.wire needs
# (a file destruction removed is no attachment: nobody is sent to fetch what is gone).
MESSAGES = f"SELECT {MESSAGE_COLUMNS} FROM message m {MESSAGE_JOINS}"  # noqa: S608 — fixed texts
# A conversation's messages changed after a version, as a (re)subscribing socket reads them;
# a client never sees internal notes.
CHANGED_SINCE = {
    for_client: f"{MESSAGES} WHERE m.conversation_id = $1 AND m.version > $2 {visible}"
    " ORDER BY m.version"
    for for_client, visible in ((True, "AND NOT m.internal"), (False, ""))
}
# The hub's drain: each conversation's changes, read as CHANGED_SINCE reads one. OFFSET 0 keeps
# the planner from flattening the lateral subquery into hash joins over whole tables, which it
# prefers while they are small and the length of the id list is unknown.
CHANGED_IN_MANY = f"""
SELECT changed.*
FROM unnest($1::bigint[], $2::bigint[]) AS d(conversation_id, after)
CROSS JOIN LATERAL (
    {MESSAGES} WHERE m.conversation_id = d.conversation_id AND m.version > d.after OFFSET 0
) changed
ORDER BY changed.conversation_id, changed.version
"""  # noqa: S608 — fixed texts
# A page of history before a seq, newest first (the caller reverses it).
PAGE_BEFORE = {
    for_client: f"{MESSAGES} WHERE m.conversation_id = $1 AND m.seq < $2 {visible}"
    " ORDER BY m.seq DESC LIMIT $3"
    for for_client, visible in ((True, "AND NOT m.internal"), (False, ""))
}

# ---------------------------------------------------------------- summaries and the client's state

# A conversation as staff lists show it, with its last message and its assignee's presence
# ($1: the presence timeout); callers add WHERE (summaries.fetch). The hub reads it per pass.
# With the SLA clock (reports.queries.SLA_CLOCK) its due times are worked out in Python from
# the cached targets and hours (summaries.for_staff).
# The preview is the last message a person wrote (the client or staff): the system's lines
# («К диалогу подключился оператор …») and the bot's would hide the client's question.
SUMMARY = f"""
SELECT c.id, c.status, c.subject_id, c.team_id, c.topic_id, c.assignee_id, c.last_version,
       c.last_seq, c.staff_read_seq, c.client_read_seq, c.waiting_since, c.created_at, c.updated_at,
       t.slug AS topic_slug, t.title AS topic_title, tm.name AS team_name,
       u.display_name AS assignee_name,
       CASE WHEN p.status IS NULL OR p.seen_at < now() - make_interval(secs => $1) THEN 'offline'
            ELSE p.status END AS assignee_presence,
       lm.seq AS last_seq_shown, lm.body AS last_body, lm.author_kind AS last_author_kind,
       lm.created_at AS last_at, lm.deleted_at AS last_deleted, lm.attachment_id AS last_attachment,
       lm.special AS last_special,
       (SELECT bs.blocked_at IS NOT NULL FROM subject bs WHERE bs.id = c.subject_id)
         AS subject_blocked,
       (SELECT ds.destroyed_at IS NOT NULL FROM subject ds WHERE ds.id = c.subject_id)
         AS subject_destroyed,
       c.staff_unread AS unread, c.tags, c.snoozed_until,
       (SELECT ch.kind FROM channel_identity ci JOIN channel ch ON ch.id = ci.channel_id
        WHERE ci.subject_id = c.subject_id LIMIT 1) AS channel_kind,
       sla.sla_started, sla.sla_answered
FROM conversation c
LEFT JOIN topic t ON t.id = c.topic_id
LEFT JOIN team tm ON tm.id = c.team_id
LEFT JOIN staff_user u ON u.id = c.assignee_id
LEFT JOIN staff_presence p ON p.staff_id = c.assignee_id
LEFT JOIN LATERAL (SELECT seq, body, author_kind, created_at, deleted_at, attachment_id,
                          special_category IS NOT NULL
                          AND special_decision IS DISTINCT FROM 'destroyed' AS special
                   FROM message WHERE conversation_id = c.id
                     AND author_kind IN ('subject', 'staff')
                   ORDER BY seq DESC LIMIT 1) lm ON true
{SLA_CLOCK}"""  # noqa: S608 — only the fixed SLA clock join is interpolated
# One conversation's summary, and several (the hub's drain reads them per pass).
SUMMARY_OF = f"{SUMMARY} WHERE c.id = $2"
SUMMARIES_OF = f"{SUMMARY} WHERE c.id = ANY($2::bigint[]) ORDER BY c.id"

# Each queued conversation's place in its team's queue: how many wait since no later than it.
QUEUE_POSITIONS = """
SELECT id, position FROM (
    SELECT id, count(*) OVER (PARTITION BY team_id ORDER BY waiting_since) AS position
    FROM conversation
    WHERE assignee_id IS NULL AND status <> 'resolved' AND waiting_since IS NOT NULL
) queue WHERE id = ANY($1::bigint[])
"""
# The topics a client may pick, in the order they are offered (read with every state sent).
ACTIVE_TOPICS = "SELECT slug, title FROM topic WHERE active ORDER BY position, id"
# The team a conversation starts in without a topic, for the welcome's promise.
FIRST_TEAM = "SELECT min(id) FROM team"

# ---------------------------------------------------------------- the hub's reads

# The versions reached, to find changes whose NOTIFY was lost (the catch-up sweep).
LAST_VERSIONS = "SELECT id, last_version FROM conversation WHERE id = ANY($1::bigint[])"
# Who may see the watched conversations now, after the watchers' scopes were re-read.
PLACES = "SELECT id, team_id, assignee_id FROM conversation WHERE id = ANY($1::bigint[])"
# The conversation a visitor's first message started (for its other tabs in the lobby).
VISITORS_CONVERSATION = (
    "SELECT c.id FROM visitor v JOIN conversation c ON c.subject_id = v.subject_id"
    " WHERE v.token_hash = $1"
)
# The version a first subscriber starts from.
LAST_VERSION = "SELECT last_version FROM conversation WHERE id = $1"

# ---------------------------------------------------------------- announcements

# NOTIFY through a pooled connection (okno.platform.chat.notify); in the caller's transaction
# it is delivered exactly at commit.
NOTIFY = "SELECT pg_notify($1, $2)"

# ---------------------------------------------------------------- attachments

# Attach an uploaded, not yet sent file of this uploader to the conversation, in the send's
# transaction; returns nothing when it is not theirs, sent already, or erased.
CLAIM_ATTACHMENT = (
    "UPDATE attachment SET conversation_id = $2 WHERE id = $1 AND conversation_id IS NULL"
    " AND uploader_kind = $3 AND uploader_id = $4 AND path IS NOT NULL RETURNING id"
)
# Erasing a file in the caller's transaction: its path, locked, then the row keeps only a size.
LOCK_ATTACHMENT_PATH = "SELECT path FROM attachment WHERE id = $1 FOR UPDATE"
ERASE_ATTACHMENT = "UPDATE attachment SET path = NULL, name = '' WHERE id = $1"
# A stored file with what decides who may read it: its conversation's subject, team and
# assignee, and whether a message marks it as a special category.
READABLE_FILE = (
    "SELECT a.id, a.name, a.content_type, a.image, a.path, a.conversation_id,"
    " a.uploader_kind, a.uploader_id, c.subject_id, c.team_id, c.assignee_id,"
    " EXISTS (SELECT 1 FROM message m WHERE m.attachment_id = a.id"
    "  AND m.special_category IS NOT NULL AND m.special_decision IS DISTINCT FROM"
    "  'destroyed') AS special"
    " FROM attachment a LEFT JOIN conversation c ON c.id = a.conversation_id"
    " WHERE a.id = $1 AND a.path IS NOT NULL"
)

# ---------------------------------------------------------------- special categories

# A message with its subject and file, row-locked for a decision on it.
LOCK_SPECIAL = (
    "SELECT m.seq, m.author_kind, m.body, m.attachment_id, m.deleted_at, m.special_category,"
    " m.special_decision, m.special_consent, c.subject_id, a.name AS attachment_name,"
    " a.path AS attachment_path FROM message m JOIN conversation c ON c.id = m.conversation_id"
    " LEFT JOIN attachment a ON a.id = m.attachment_id"
    " WHERE m.conversation_id = $1 AND m.seq = $2 FOR UPDATE OF m"
)
# Marked messages awaiting the DPO, oldest first, with who marked them, without their content.
SPECIAL_PENDING = (
    "SELECT m.conversation_id, m.seq, m.special_category, m.special_flagged_at,"
    " m.attachment_id IS NOT NULL AS has_attachment, u.pseudonym"
    " FROM message m LEFT JOIN staff_user u ON u.id = m.special_flagged_by"
    " WHERE m.special_category IS NOT NULL AND m.special_decision IS NULL"
    " ORDER BY m.special_flagged_at"
)
# Destruction: the written consents' references of a subject's messages, counted.
CLEAR_WRITTEN_CONSENTS = (
    "WITH changed AS (UPDATE message m SET special_consent = NULL FROM conversation c"
    " WHERE c.id = m.conversation_id AND c.subject_id = $1 AND m.special_consent IS NOT NULL"
    " RETURNING 1) SELECT count(*) FROM changed"
)

# ---------------------------------------------------------------- the bot

# A conversation waiting unassigned, with whether the bot told it of closed hours in this wait
# ($2: the notice's fixed opening).
WAITING_AND_TOLD = (
    "SELECT team_id, EXISTS (SELECT 1 FROM message m WHERE m.conversation_id = c.id"
    "  AND m.author_kind = 'bot' AND m.created_at >= c.waiting_since"
    "  AND starts_with(m.body, $2)) AS told"
    " FROM conversation c WHERE c.id = $1 AND c.assignee_id IS NULL"
    " AND c.waiting_since IS NOT NULL AND c.status <> 'resolved'"
)

# ---------------------------------------------------------------- the web areas' API
# (admin's /api/staff and the attachment route, through console.py, profile.py, file_access.py)

# The WHERE of one console box, after SUMMARY (whose $1 is the presence timeout): $2 sees all,
# $3 the caller's teams, $4 the caller, $5 the box (queue, mine, team, all), $6 a tag, $7 a
# conversation number, $8 an ILIKE pattern of a message's text, $9 a status, $10 a topic's
# slug, $11 a team, $12 an assignee (0: nobody); a NULL filter is off. $13: the snoozed ones
# only, else only those not snoozed now (a number finds it either way). Blocked
# subjects' conversations are not listed (okno.platform.rights.blocking), nor special-category
# texts searched. Hand-written: it extends the summaries' one statement. The box's 200 are
# picked from the conversation rows alone, then summarised: joined first, every conversation
# the box admits would have its last message read before the sort (docs/reports.md).
STAFF_BOX = f"""
c.id IN (SELECT c.id FROM conversation c WHERE
{staff_scope("$4", "$2::bool")}
AND CASE $5::text
    WHEN 'queue' THEN c.assignee_id IS NULL AND c.status <> 'resolved'
    WHEN 'mine' THEN c.assignee_id = $4
    WHEN 'team' THEN c.team_id = ANY($3::int[])
    ELSE true
END
AND ($6::text IS NULL OR $6 = ANY(c.tags))
AND ($9::text IS NULL OR c.status = $9)
AND ($10::text IS NULL OR c.topic_id = (SELECT ft.id FROM topic ft WHERE ft.slug = $10))
AND ($11::int IS NULL OR c.team_id = $11)
AND ($12::bigint IS NULL OR coalesce(c.assignee_id, 0) = $12)
AND ($7::bigint IS NOT NULL OR CASE WHEN $13::bool THEN c.snoozed_until > now()
     ELSE c.snoozed_until IS NULL OR c.snoozed_until <= now() END)
AND NOT EXISTS (SELECT 1 FROM subject bs WHERE bs.id = c.subject_id AND bs.blocked_at IS NOT NULL)
AND ($7::bigint IS NULL OR c.id = $7)
AND ($8::text IS NULL OR EXISTS (
    SELECT 1 FROM message sm WHERE sm.conversation_id = c.id
    AND sm.deleted_at IS NULL AND sm.special_category IS NULL AND sm.body ILIKE $8
))
ORDER BY c.status = 'resolved', c.updated_at DESC LIMIT 200)
ORDER BY c.status = 'resolved', c.updated_at DESC
"""  # noqa: S608 — only the fixed staff-scope fragment is interpolated; every value is a parameter

# Every purpose with the subject's latest consent in force for it (the view consent_in_force;
# none where there is none), for the profile panel. Hand-written: a LATERAL join.
PROFILE_CONSENTS = """
SELECT p.code, p.name, p.fields, g.id AS consent_id, g.at FROM purpose p
LEFT JOIN LATERAL (SELECT id, at FROM consent_in_force g WHERE g.subject_id = $1
 AND g.purpose_code = p.code ORDER BY id DESC LIMIT 1) g ON true ORDER BY p.code
"""

# The chat staff a conversation can be transferred to, with their presence (staff_presence,
# offline once not seen for $1 seconds) and teams (team_member). Hand-written: an aggregate
# over two outer joins.
TRANSFER_STAFF = """
SELECT u.id, u.display_name,
 CASE WHEN p.status IS NULL OR p.seen_at < now() - make_interval(secs => $1)
  THEN 'offline' ELSE p.status END AS presence,
 coalesce(array_agg(tm.team_id) FILTER (WHERE tm.team_id IS NOT NULL), '{}') AS teams
FROM staff_user u LEFT JOIN staff_presence p ON p.staff_id = u.id
LEFT JOIN team_member tm ON tm.staff_id = u.id
WHERE u.disabled_at IS NULL AND u.role IN ('operator', 'supervisor', 'admin')
GROUP BY u.id, p.status, p.seen_at ORDER BY u.display_name
"""

# Whether a message of the subject's conversation carries the attachment (a mailing's image
# sent to many conversations is readable where it was sent). Hand-written: a join.
ATTACHMENT_SENT_TO_SUBJECT = (
    "SELECT 1 FROM message m JOIN conversation c ON c.id = m.conversation_id"
    " WHERE m.attachment_id = $1 AND c.subject_id = $2 AND m.deleted_at IS NULL"
)

# ---------------------------------------------------------------- destruction

# The chat's erasers and what destruction shares with them (chat/erasure.py,
# erasure/destruction.py). Hand-written: they run on the connection of destruction's
# transaction, with row locks, jsonb operators and CTEs that count what they changed.


def attachments_to_erase(where: str) -> str:
    """Attachments matching ``where`` that still have a file or a name, locked for the eraser."""
    # where is one of this module's fixed fragments (CHAT_ATTACHMENTS, ATTACHMENTS_BEFORE,
    # ATTACHMENT_BY_ID); values are parameters.
    return (
        f"SELECT id, path FROM attachment WHERE ({where}) AND (path IS NOT NULL OR name <> '')"  # noqa: S608 — see above
        " FOR UPDATE"
    )


# The attachments' files and names go; the rows stay (messages point at them).
ATTACHMENTS_FORGET = "UPDATE attachment SET path = NULL, name = '' WHERE id = ANY($1::text[])"
# attachments_to_erase's ``where`` for a subject's chat: their conversation's files, and what their
# chat sessions uploaded before a conversation existed ($1 conversation, $2 session hashes).
CHAT_ATTACHMENTS = (
    "conversation_id = $1 OR (conversation_id IS NULL AND uploader_kind = 'subject'"
    " AND uploader_id = ANY($2::text[]))"
)
# attachments_to_erase's ``where`` for one attachment ($1): a special category's file.
ATTACHMENT_BY_ID = "id = $1"
# attachments_to_erase's ``where`` for the files of a conversation's messages written before $2.
ATTACHMENTS_BEFORE = (
    "id IN (SELECT attachment_id FROM message WHERE conversation_id = $1"
    " AND created_at < $2 AND attachment_id IS NOT NULL)"
)
# The subject's chat sessions (their token hashes name what a session uploaded).
VISITOR_TOKENS = "SELECT token_hash FROM visitor WHERE subject_id = $1"
# The subject's conversation, locked against new messages while it is erased.
CONVERSATION_LOCK = "SELECT id FROM conversation WHERE subject_id = $1 FOR UPDATE"
# The operators' tags on the conversation go; counts 1 if there were any.
CONVERSATION_TAGS_CLEAR = (
    "WITH t AS (UPDATE conversation SET tags = '{}' WHERE id = $1"
    " AND tags <> '{}' RETURNING 1) SELECT count(*) FROM t"
)
# The subject's chat sessions removed; counts them.
VISITORS_DELETE = (
    "WITH gone AS (DELETE FROM visitor WHERE subject_id = $1 RETURNING 1) SELECT count(*) FROM gone"
)
# Messages still holding a text or a file (not yet the tombstone $2) or a bot's masked form, written
# before $3 if given, in order: each takes the next version of the conversation.
TOMBSTONE_CANDIDATES = (
    "SELECT seq, author_kind FROM message WHERE conversation_id = $1"
    " AND ($3::timestamptz IS NULL OR created_at < $3) AND ("
    " (author_kind IN ('subject', 'staff')"
    "  AND (body NOT IN ('', $2) OR (body = '' AND attachment_id IS NOT NULL)))"
    " OR (author_kind = 'bot' AND (form ? 'display' OR buttons <> '[]'::jsonb)))"
    " ORDER BY seq"
)
# Takes $2 versions of the conversation for its changed messages; returns the last one.
CONVERSATION_VERSIONS_TAKE = (
    "UPDATE conversation SET last_version = last_version + $2, updated_at = now()"
    " WHERE id = $1 RETURNING last_version"
)
# One message becomes the tombstone $4 (a bot's text stays, its masked value and buttons go).
MESSAGE_TOMBSTONE = (
    "UPDATE message SET version = $3,"
    " body = CASE WHEN author_kind = 'bot' THEN body ELSE $4 END,"
    " buttons = '[]', form = CASE WHEN form IS NULL THEN NULL ELSE form - 'display' END"
    " WHERE conversation_id = $1 AND seq = $2"
)


# ---------------------------------------------------------------- the console

# An operator's notification preferences, replaced whole (one row per staff member).
SAVE_PREFERENCES = """
INSERT INTO console_preference (staff_id, sound_queue, sound_mine, sound_transfer, volume,
                                desktop, desktop_details, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, now())
ON CONFLICT (staff_id) DO UPDATE SET sound_queue = $2, sound_mine = $3, sound_transfer = $4,
    volume = $5, desktop = $6, desktop_details = $7, updated_at = now()
"""
# Snooze a conversation until $2 (NULL: back now) on the database's clock: only to a time in
# the future and within $4 seconds; returns the new version and the snooze it replaced.
SNOOZE = """
WITH before AS (SELECT snoozed_until FROM conversation WHERE id = $1 FOR UPDATE)
UPDATE conversation SET snoozed_until = $2, snoozed_by = $3, last_version = last_version + 1
WHERE id = $1 AND ($2::timestamptz IS NULL
                   OR $2 > now() AND $2 <= now() + make_interval(secs => $4))
RETURNING last_version, (SELECT snoozed_until FROM before) AS before
"""
# Snoozes that ran out end, each with a new version so every console gets its summary back.
SNOOZES_ENDED = """
UPDATE conversation SET snoozed_until = NULL, snoozed_by = NULL, last_version = last_version + 1
WHERE snoozed_until <= now() RETURNING id, last_version
"""
# A staff socket has a conversation open (again: its heartbeat is fresh).
VIEWING = """
INSERT INTO conversation_viewer (conversation_id, socket, staff_id) VALUES ($1, $2, $3)
ON CONFLICT (conversation_id, socket) DO UPDATE SET seen_at = now()
"""
# It left one, or closed: the conversations it had open.
LEFT_ONE = "DELETE FROM conversation_viewer WHERE conversation_id = $1 AND socket = $2"
LEFT_ALL = "DELETE FROM conversation_viewer WHERE socket = $1 RETURNING conversation_id"
# Its heartbeat; rows of sockets whose worker died without deleting them go after an hour.
VIEWER_HEARTBEAT = """
WITH stale AS (DELETE FROM conversation_viewer WHERE seen_at < now() - interval '1 hour')
UPDATE conversation_viewer SET seen_at = now() WHERE socket = $1
"""
# Who has the conversation open now (a heartbeat within $2 seconds), each person once.
VIEWERS = """
SELECT DISTINCT v.staff_id, u.display_name FROM conversation_viewer v
JOIN staff_user u ON u.id = v.staff_id
WHERE v.conversation_id = $1 AND v.seen_at >= now() - make_interval(secs => $2)
ORDER BY u.display_name, v.staff_id
"""

# ---------------------------------------------------------------- the integrations' API

# A conversation an integration names (API tokens see every conversation): its subject and
# whether the subject is blocked, as VISIBLE_CONVERSATION says it for staff.
INTEGRATION_CONVERSATION = """
SELECT c.id, c.subject_id, c.assignee_id, c.status,
       coalesce(sub.blocked_at IS NOT NULL, false) AS blocked
FROM conversation c LEFT JOIN subject sub ON sub.id = c.subject_id
WHERE c.id = $1
"""

# A page of conversations for an integration, by id after the cursor ($2), with the filters
# of /api/v1/conversations; never a blocked subject's. For summaries.fetch ($1: presence).
INTEGRATION_PAGE = """
c.id > $2
AND ($3::text IS NULL OR c.status = $3)
AND ($4::text IS NULL OR $4 = ANY(c.tags))
AND ($5::bigint IS NULL OR c.assignee_id = $5)
AND ($6::int IS NULL OR c.team_id = $6)
AND ($7::timestamptz IS NULL OR c.updated_at >= $7)
AND NOT EXISTS (SELECT 1 FROM subject bs WHERE bs.id = c.subject_id AND bs.blocked_at IS NOT NULL)
ORDER BY c.id LIMIT $8
"""

# Whether a staff account can be given conversations: enabled, in a role with chat.
CHAT_STAFF = (
    "SELECT id FROM staff_user WHERE id = $1 AND disabled_at IS NULL"
    " AND role IN ('operator', 'supervisor', 'admin')"
)
