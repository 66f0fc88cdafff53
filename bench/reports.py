"""The console's lists and a month's report over a large history: a loader that writes
100,000 conversations and 2,000,000 messages (by default) in a few set-based statements, and
the timings of the pages a supervisor and an operator open.

The loader writes straight into the tables (``generate_series``, triggers and foreign-key
checks off for its one transaction: it writes consistent rows, and the events the triggers
would write are generated alongside), so loading takes a minute or two, not the hours the
real send path would. What it writes has the shape of a year of service: three teams, nine
topics, the bench's operators in them, conversations spread over 365 days, each with the
client and the operator taking turns a minute apart, nearly all resolved.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from bench.harness import Operator
from bench.loads import percentiles

MOSCOW = ZoneInfo("Europe/Moscow")

# Formatted with integers only (load): one script, no parameters.
LOAD = """
SET LOCAL session_replication_role = replica;
INSERT INTO team (name) SELECT 'Команда ' || g FROM generate_series(2, 3) g;
INSERT INTO topic (slug, title, team_id, position)
SELECT 'bench-' || g, 'Тема ' || g, 1 + g % 3, 10 + g FROM generate_series(1, 6) g;
INSERT INTO team_member (team_id, staff_id)
SELECT 1 + n % 3, ('{staff}'::bigint[])[n]
FROM generate_series(1, cardinality('{staff}'::bigint[])) n
ON CONFLICT DO NOTHING;
CREATE TEMP TABLE bench_topic ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, team_id FROM topic;
CREATE TEMP TABLE bench_subject ON COMMIT DROP AS
SELECT g AS n, gen_random_uuid() AS id,
       now() - (g::float / {conversations}) * interval '365 days' AS at
FROM generate_series(1, {conversations}) g;
INSERT INTO subject (id, created_at) SELECT id, at FROM bench_subject;
CREATE TEMP TABLE bench_conversation (id bigint PRIMARY KEY) ON COMMIT DROP;
WITH made AS (
    INSERT INTO conversation (subject_id, topic_id, team_id, status, assignee_id, last_seq,
                              last_version, created_at, updated_at, waiting_since)
    SELECT s.id, t.id, t.team_id,
           CASE s.n % 50 WHEN 0 THEN 'new' WHEN 1 THEN 'open' ELSE 'resolved' END,
           CASE WHEN s.n % 50 <> 0
                THEN ('{staff}'::bigint[])[1 + s.n % cardinality('{staff}'::bigint[])] END,
           {per}, {per}, s.at, s.at + {per} * interval '1 minute',
           CASE WHEN s.n % 50 = 0 THEN s.at END
    FROM bench_subject s
    JOIN bench_topic t ON t.n = s.n % (SELECT count(*) FROM bench_topic)
    RETURNING id
)
INSERT INTO bench_conversation SELECT id FROM made;
INSERT INTO message (conversation_id, seq, version, client_id, author_kind, author_id, body,
                     created_at)
SELECT c.id, g, g, gen_random_uuid(),
       CASE WHEN g % 2 = 1 OR c.assignee_id IS NULL THEN 'subject' ELSE 'staff' END,
       CASE WHEN g % 2 = 0 THEN c.assignee_id END,
       'Сообщение ' || g, c.created_at + (g - 1) * interval '1 minute'
FROM conversation c JOIN bench_conversation b ON b.id = c.id
CROSS JOIN generate_series(1, {per}) g;
INSERT INTO conversation_event (conversation_id, kind, at, team_id, topic_id, staff_id, seconds,
                                first, started_at, answered)
SELECT c.id, 'created', c.created_at, c.team_id, c.topic_id, NULL::bigint, NULL::float8, false,
       NULL::timestamptz, NULL::boolean
FROM conversation c JOIN bench_conversation b ON b.id = c.id
UNION ALL
SELECT c.id, 'assigned', c.created_at + interval '30 seconds', c.team_id, c.topic_id,
       c.assignee_id, 30, false, NULL, NULL
FROM conversation c JOIN bench_conversation b ON b.id = c.id WHERE c.assignee_id IS NOT NULL
UNION ALL
SELECT m.conversation_id, 'response', m.created_at, c.team_id, c.topic_id, m.author_id, 60,
       m.seq = 2, c.created_at, NULL
FROM message m JOIN bench_conversation b ON b.id = m.conversation_id
JOIN conversation c ON c.id = m.conversation_id WHERE m.author_kind = 'staff'
UNION ALL
SELECT c.id, 'resolved', c.updated_at, c.team_id, c.topic_id, c.assignee_id,
       extract(epoch FROM c.updated_at - c.created_at), false, c.created_at, true
FROM conversation c JOIN bench_conversation b ON b.id = c.id WHERE c.status = 'resolved';
"""


async def load(url: str, conversations: int, messages: int, staff_ids: list[int]) -> float:
    """Write the history; returns the seconds it took."""
    script = LOAD.format(
        conversations=int(conversations),
        per=max(2, messages // conversations),
        staff="{" + ",".join(str(int(i)) for i in staff_ids) + "}",
    )
    started = time.monotonic()
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute(script)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return time.monotonic() - started


async def _timed(http: httpx.AsyncClient, path: str, times: int, **params: str) -> list[float]:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        response = await http.get(path, params=params)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code}")
    return samples


async def measure(url: str, supervisor: str, operator: str, times: int) -> dict[str, Any]:
    """p50/p95 of the operator's and the supervisor's lists and of a month's report."""
    results: dict[str, Any] = {}
    api = {"accept": "application/json"}
    for role, login in (("operator", operator), ("supervisor", supervisor)):
        cookie = (await Operator.sign_in(url, login)).cookie
        name, value = cookie.split("=", 1)
        async with httpx.AsyncClient(
            base_url=url, cookies={name: value}, headers=api, timeout=60
        ) as http:
            # «all» is a supervisor's box; an operator has their own and their teams'.
            boxes = ("queue", "mine", "team") if role == "operator" else ("queue", "all")
            for box in boxes:
                samples = await _timed(http, "/api/staff/conversations", times, box=box)
                results[f"{role} list «{box}»"] = percentiles(samples)
            if role == "supervisor":
                today = datetime.now(UTC).astimezone(MOSCOW).date()
                month = {"start": str(today - timedelta(days=29)), "end": str(today)}
                http.headers.update({"accept": "text/html"})
                for by in ("team", "operator"):
                    samples = await _timed(http, "/admin/reports/", times, **month, by=by)
                    results[f"report over 30 days, by {by}"] = percentiles(samples)
            http.headers.update(api)
    return results
