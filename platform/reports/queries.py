"""The reports' hand-written SQL: aggregates over ``conversation_event`` (FILTER clauses,
percentiles, grouping sets and time-zone buckets, which the builder does not write) and the
monitor's live reads. Nothing here reads a message's text or a subject's field."""

from __future__ import annotations

# The events of a period, narrowed by team, topic, operator and channel ($1..$6; null: all).
EVENTS_IN = """
FROM conversation_event e
WHERE e.at >= $1 AND e.at < $2
  AND ($3::int IS NULL OR e.team_id = $3)
  AND ($4::int IS NULL OR e.topic_id = $4)
  AND ($5::bigint IS NULL OR e.staff_id = $5)
  AND ($6::text IS NULL OR e.channel = $6)
"""

# Every metric the events give, per group and in total (the grouping set ()).
FIGURES = """
count(*) FILTER (WHERE e.kind = 'created') AS created,
count(*) FILTER (WHERE e.kind = 'resolved') AS resolved,
count(*) FILTER (WHERE e.kind = 'reopened') AS reopened,
count(*) FILTER (WHERE e.kind = 'resolved' AND NOT e.answered) AS missed,
count(*) FILTER (WHERE e.kind = 'assigned') AS assigned,
count(*) FILTER (WHERE e.kind = 'response') AS responses,
avg(e.seconds) FILTER (WHERE e.kind = 'response' AND e.first) AS first_response_avg,
avg(e.seconds) FILTER (WHERE e.kind = 'response') AS response_avg,
percentile_cont(0.9) WITHIN GROUP (ORDER BY e.seconds)
    FILTER (WHERE e.kind = 'response') AS response_p90,
avg(e.seconds) FILTER (WHERE e.kind = 'resolved') AS resolution_avg,
avg(e.seconds) FILTER (WHERE e.kind = 'assigned' AND e.seconds IS NOT NULL) AS queue_avg,
percentile_cont(0.9) WITHIN GROUP (ORDER BY e.seconds)
    FILTER (WHERE e.kind = 'assigned' AND e.seconds IS NOT NULL) AS queue_p90
"""

# The column each breakdown groups by; the only text interpolated into BREAKDOWN.
DIMENSIONS = {
    "team": "e.team_id::text",
    "topic": "e.topic_id::text",
    "operator": "e.staff_id::text",
    "channel": "e.channel",
}


def breakdown(dimension: str) -> str:
    """One row per value of the dimension, and the total (key null, total true)."""
    key = DIMENSIONS[dimension]
    return (
        f"SELECT {key} AS key, GROUPING({key}) = 1 AS total, {FIGURES} {EVENTS_IN}"
        f" GROUP BY GROUPING SETS (({key}), ()) ORDER BY total, key"
    )


# New and resolved conversations per day of the period, in the report's time zone ($7).
DAILY = f"""
SELECT (e.at AT TIME ZONE $7)::date AS day,
       count(*) FILTER (WHERE e.kind = 'created') AS created,
       count(*) FILTER (WHERE e.kind = 'resolved') AS resolved
{EVENTS_IN} AND e.kind IN ('created', 'resolved')
GROUP BY day ORDER BY day
"""

# New conversations by ISO weekday (1 = Monday) and hour, in the report's time zone ($7).
HEAT = f"""
SELECT extract(isodow FROM e.at AT TIME ZONE $7)::int AS weekday,
       extract(hour FROM e.at AT TIME ZONE $7)::int AS hour, count(*) AS created
{EVENTS_IN} AND e.kind = 'created'
GROUP BY weekday, hour
"""  # noqa: S608 (EVENTS_IN is a constant)

# Ratings given in the period, by stars, for conversations of the team, topic and assignee.
RATINGS_IN = """
FROM review r JOIN conversation c ON c.id = r.conversation_id
WHERE r.created_at >= $1 AND r.created_at < $2
  AND ($3::int IS NULL OR c.team_id = $3)
  AND ($4::int IS NULL OR c.topic_id = $4)
  AND ($5::bigint IS NULL OR c.assignee_id = $5)
  AND ($6::text IS NULL OR conversation_channel(c.subject_id) = $6)
"""
CSAT = f"""
SELECT r.rating, count(*) AS ratings, count(*) FILTER (WHERE r.body <> '') AS comments
{RATINGS_IN}
GROUP BY r.rating ORDER BY r.rating
"""

# The comments of those ratings, newest first, at most $7: the clients' own text, read only
# when a supervisor asks to see them (reports.service.comments logs each one shown).
CSAT_COMMENTS = f"""
SELECT r.conversation_id, r.subject_id, r.rating, r.created_at, r.body
{RATINGS_IN} AND r.body <> ''
ORDER BY r.created_at DESC, r.id DESC LIMIT $7
"""

# Resolved in the period without any staff answer: the missed chats, by id only (opening one
# is the console's, and is logged there).
MISSED = f"""
SELECT e.conversation_id, e.at, e.seconds
{EVENTS_IN} AND e.kind = 'resolved' AND NOT e.answered
ORDER BY e.at DESC LIMIT 50
"""

# The monitor: every operator and supervisor with their presence and open chats ($1: the
# presence timeout in seconds).
MONITOR_STAFF = """
SELECT u.id, u.display_name, u.role, u.max_chats,
       CASE WHEN p.seen_at IS NULL OR p.seen_at < now() - make_interval(secs => $1)
            THEN 'offline' ELSE p.status END AS presence,
       (SELECT count(*) FROM conversation c
        WHERE c.assignee_id = u.id AND c.status <> 'resolved') AS chats
FROM staff_user u LEFT JOIN staff_presence p ON p.staff_id = u.id
WHERE u.disabled_at IS NULL AND u.role IN ('operator', 'supervisor')
ORDER BY p.seen_at IS NULL OR p.seen_at < now() - make_interval(secs => $1), u.display_name
"""

# The monitor: what waits in the queue now, per team and topic, and since when.
MONITOR_QUEUES = """
SELECT c.team_id, c.topic_id, count(*) AS waiting, min(c.waiting_since) AS oldest,
       extract(epoch FROM now() - min(c.waiting_since)) AS longest
FROM conversation c
WHERE c.assignee_id IS NULL AND c.waiting_since IS NOT NULL AND c.status <> 'resolved'
GROUP BY c.team_id, c.topic_id ORDER BY longest DESC
"""

# The SLA clock of the conversation ``c`` of a statement, as a LATERAL join: when it started
# (created or last reopened) and whether staff answered since; NULL for a resolved one. One
# text for the monitor (OPEN_FOR_SLA) and the staff summaries (chat.queries.SUMMARY), so both
# count a breach alike (reports.sla.Checker.state). OFFSET 0 keeps the status test inside
# (a one-time filter per row): pulled up into the join, it let the function run for every
# resolved conversation of a list too (200 summaries: 7 → 21 ms; guarded: docs/reports.md).
SLA_CLOCK = """
LEFT JOIN LATERAL (
    SELECT s.started AS sla_started,
           EXISTS (SELECT 1 FROM conversation_event r WHERE r.conversation_id = c.id
                   AND r.kind = 'response' AND r.at >= s.started) AS sla_answered
    FROM (SELECT conversation_event_started(c.id) AS started
          WHERE c.status <> 'resolved' OFFSET 0) s
) sla ON true
"""
# Conversations not resolved, for the monitor's SLA check.
OPEN_FOR_SLA = f"""
SELECT c.id, c.team_id, c.topic_id, c.assignee_id, sla.sla_started, sla.sla_answered
FROM conversation c
{SLA_CLOCK}
WHERE c.status <> 'resolved'
"""  # noqa: S608 — only the fixed SLA_CLOCK text is interpolated

# First answers and resolutions of the period, with when each conversation started: the SLA
# check counts the working time between the two (reports.sla).
SLA_EVENTS = f"""
SELECT e.kind, e.at, e.started_at, e.team_id, e.topic_id, e.staff_id, e.channel
{EVENTS_IN} AND e.started_at IS NOT NULL
  AND (e.kind = 'resolved' OR (e.kind = 'response' AND e.first))
"""

# For OCCUPANCY's transaction: its cost estimate is over the JIT threshold, and compiling it
# cost more than running it (1.6 s of 2.6 s over 100,000 conversations on the shared machine).
NO_JIT = "SET LOCAL jit = off"

# Each staff member's presence and chats over a period ($1, $2; $3: one staff member or all;
# $4: the presence timeout in seconds), as time ranges the database adds up (multiranges,
# which the builder does not write). Spans are cut to the period and to now; a span still
# open counts to now, or to the last heartbeat if heartbeats stopped and no sweep closed it
# yet. A chat is held by its assignee from its «assigned» (or «reopened») event to the
# conversation's next «assigned», «resolved» or «reopened» (or now); the holds that matter
# start in the period, or are a conversation's last event before it, looked up only for the
# conversations with an event since the period began or open now (not the whole history).
# Handling time is the
# online time with at least one chat held; chat time adds each chat's own online time, so
# chat time ÷ online time is how many chats were held at once on average.
OCCUPANCY = """
WITH period AS (
    SELECT tstzmultirange(tstzrange($1, least($2, now()))) AS range
), spans AS (
    SELECT s.staff_id, s.status,
           range_agg(tstzrange(s.started_at, coalesce(s.ended_at,
               CASE WHEN p.seen_at < now() - make_interval(secs => $4)
                    THEN greatest(p.seen_at, s.started_at) ELSE now() END))) AS ranges
    FROM presence_span s LEFT JOIN staff_presence p ON p.staff_id = s.staff_id
    WHERE s.started_at < $2 AND (s.ended_at IS NULL OR s.ended_at > $1)
      AND ($3::bigint IS NULL OR s.staff_id = $3)
    GROUP BY s.staff_id, s.status
), presence AS (
    SELECT staff_id,
           coalesce(range_agg(ranges) FILTER (WHERE status = 'online'), '{}') * period.range
               AS online,
           coalesce(range_agg(ranges) FILTER (WHERE status = 'away'), '{}') * period.range
               AS away
    FROM spans, period
    GROUP BY staff_id, period.range
), starts AS (
    SELECT e.conversation_id, e.id, e.at, e.kind, e.staff_id FROM conversation_event e
    WHERE e.at >= $1 AND e.at < $2 AND e.kind IN ('assigned', 'reopened')
    UNION ALL
    SELECT b.conversation_id, b.id, b.at, b.kind, b.staff_id
    FROM (SELECT conversation_id FROM conversation_event
          WHERE at >= $1 AND kind IN ('assigned', 'resolved', 'reopened')
          UNION SELECT id FROM conversation WHERE status <> 'resolved') c
    CROSS JOIN LATERAL (
        SELECT x.conversation_id, x.id, x.at, x.kind, x.staff_id FROM conversation_event x
        WHERE x.conversation_id = c.conversation_id AND x.at < $1
          AND x.kind IN ('assigned', 'resolved', 'reopened')
        ORDER BY x.at DESC, x.id DESC LIMIT 1
    ) b
    WHERE b.kind IN ('assigned', 'reopened')
), holds AS (
    SELECT e.staff_id, tstzmultirange(tstzrange(e.at, coalesce(n.at, now()))) AS held
    FROM starts e
    LEFT JOIN LATERAL (
        SELECT x.at FROM conversation_event x
        WHERE x.conversation_id = e.conversation_id
          AND x.kind IN ('assigned', 'resolved', 'reopened') AND (x.at, x.id) > (e.at, e.id)
        ORDER BY x.at, x.id LIMIT 1
    ) n ON true
    WHERE (n.at IS NULL OR n.at > $1) AND e.staff_id IN (SELECT staff_id FROM presence)
)
SELECT p.staff_id,
       multirange_seconds(p.online) AS online_seconds,
       multirange_seconds(p.away) AS away_seconds,
       multirange_seconds(range_agg(h.held) * p.online) AS handling_seconds,
       coalesce(sum(multirange_seconds(h.held * p.online)), 0) AS chat_seconds
FROM presence p LEFT JOIN holds h ON h.staff_id = p.staff_id
GROUP BY p.staff_id, p.online, p.away
ORDER BY p.staff_id
"""
