"""Operators' occupancy and the clients' comments in «Отчёты», against what the test made
happen: the operator's presence changes on /ws/staff, chats taken and resolved there, a
client rating with a comment on /ws/client. The supervisor's part goes through the pages.

Time is moved only by SQL, each time with a comment: ``elapse`` pushes what has happened so
far back, as if that much time had passed since.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from okno.platform import database
from tests.chat_support import Client, log_rows, subject_of
from tests.test_reports import client_on, desk, parse_csv

__all__ = ["desk"]  # the fixture, shared with test_reports

MOSCOW = ZoneInfo("Europe/Moscow")
MINUTE = 60.0


async def elapse(staff_id: int, conversations: list[int], minutes: float) -> None:
    """Moving time: the operator's presence spans and the conversations' events so far
    happened ``minutes`` earlier (an open span started earlier: it has lasted that much more)."""
    by = timedelta(minutes=minutes)
    async with database.acquire() as conn:
        await conn.execute(
            "UPDATE presence_span SET started_at = started_at - $2::interval,"
            " ended_at = ended_at - $2::interval WHERE staff_id = $1",
            staff_id,
            by,
        )
        await conn.execute(
            "UPDATE conversation_event SET at = at - $2::interval WHERE conversation_id = ANY($1)",
            conversations,
            by,
        )


async def presence(operator, status: str) -> None:
    await operator.send(type="presence", status=status)
    await operator.send(type="ping")
    await operator.until("pong")  # the frames are handled in order: the change is recorded


async def take(operator, conversation: int) -> None:
    await operator.send(type="take", conversation=conversation)
    while (await operator.until("conversation", wait=10, id=conversation))["assignee"] is None:
        pass


async def resolve_and_rate(operator, client: Client, conversation: int, comment: str) -> None:
    await operator.send(type="status", conversation=conversation, status="resolved")
    question = await client.message(text="Ваш вопрос решён?")
    await client.send(type="button", seq=question["seq"], button="resolved:yes")
    rating = await client.message(text="Оцените, пожалуйста, как мы помогли: от 1 до 5.")
    await client.send(type="button", seq=rating["seq"], button="rate:5")
    form = await client.message(
        text="Спасибо за оценку! Если хотите, напишите пару слов — отзыв можно будет опубликовать."
    )
    await client.send(type="field", seq=form["seq"], value=comment)
    await client.message(text="Опубликовать отзыв на странице отзывов?")


async def test_occupancy_and_comments_match_what_happened(base_url, desk) -> None:
    admin, operator, supervisor = desk["admin"], desk["operator"], desk["supervisor"]
    async with database.acquire() as conn:
        staff_id = await conn.fetchval(
            "SELECT id FROM staff_user WHERE login = $1", f"olga-{desk['suffix']}"
        )
    # What the test expects, worked out from its own steps: (status, minutes, chats held).
    steps: list[tuple[str, float, int]] = []
    chats: list[int] = []

    async def then(status: str, minutes: float, held: int) -> None:
        steps.append((status, minutes, held))
        await elapse(staff_id, chats, minutes)

    await then("online", 60, 0)  # connected on /ws/staff: online
    await presence(operator, "away")
    await then("away", 10, 0)
    await presence(operator, "online")
    await then("online", 20, 0)
    first, answered = await client_on(base_url, desk["slug"], "Где мой заказ?")
    chats.append(answered)
    await take(operator, answered)
    await then("online", 30, 1)
    second, waiting = await client_on(base_url, desk["slug"], "Алло?")
    chats.append(waiting)
    await take(operator, waiting)
    await then("online", 15, 2)
    comment = "Быстро нашли, спасибо Ольге"
    await resolve_and_rate(operator, first, answered, comment)
    await then("online", 5, 1)

    online = sum(m for status, m, _ in steps if status == "online") * MINUTE
    away = sum(m for status, m, _ in steps if status == "away") * MINUTE
    handling = sum(m for status, m, held in steps if status == "online" and held) * MINUTE
    chat_time = sum(m * held for status, m, held in steps if status == "online") * MINUTE

    today = datetime.now(UTC).astimezone(MOSCOW).date()
    period = {
        "start": str(today - timedelta(days=1)),
        "end": str(today),
        "team": str(desk["team"]),
        "operator": str(staff_id),
    }
    response = await supervisor.get("/admin/reports/csv", params={**period, "table": "occupancy"})
    assert response.status_code == 200, response.text
    header, *rows = parse_csv(response.content)
    assert len(rows) == 1, rows
    row = dict(zip(header, rows[0], strict=True))
    # The real seconds the steps took on top of the moved minutes: a few at most.
    assert abs(float(row["В сети"]) - online) < 30
    assert abs(float(row["Отошёл"]) - away) < 30
    assert abs(float(row["В сети с диалогами"]) - handling) < 30
    assert abs(float(row["Занятость, %"]) - 100 * handling / online) < 0.5
    assert abs(float(row["Нагрузка, диалогов одновременно"]) - chat_time / online) < 0.02

    # Heartbeats stop as a dead worker's would (fault injection: its last one an hour ago, no
    # sweep yet): the open span counts to that heartbeat, not to now.
    async with database.acquire() as conn:
        await conn.execute(
            "UPDATE staff_presence SET seen_at = now() - interval '1 hour' WHERE staff_id = $1",
            staff_id,
        )
    header, *rows = parse_csv(
        (
            await supervisor.get("/admin/reports/csv", params={**period, "table": "occupancy"})
        ).content
    )
    lapsed = dict(zip(header, rows[0], strict=True))
    assert abs(float(lapsed["В сети"]) - (online - 3600)) < 30
    # The next heartbeat closes that span at the last heartbeat and opens a new one.
    await presence(operator, "online")
    async with database.acquire() as conn:
        spans = await conn.fetch(
            "SELECT s.ended_at, p.seen_at FROM presence_span s, staff_presence p"
            " WHERE s.staff_id = $1 AND p.staff_id = $1 ORDER BY s.started_at DESC LIMIT 2",
            staff_id,
        )
    assert spans[0]["ended_at"] is None
    assert abs((spans[1]["ended_at"] - spans[0]["seen_at"]).total_seconds() + 3600) < 30

    # The comments: not on the report, not in its CSV, shown only on request, each logged.
    subject = await subject_of(answered)
    before = await log_rows(subject)
    query = "&".join(f"{k}={v}" for k, v in period.items())
    page = await supervisor.get(f"/admin/reports/?{query}")
    assert comment not in page.text
    assert "Показать комментарии" in page.text
    csat = await supervisor.get("/admin/reports/csv", params={**period, "table": "csat"})
    assert comment not in csat.content.decode("utf-8-sig")
    assert await log_rows(subject) == before
    shown = await admin.submit(f"/admin/reports/?{query}", "/admin/reports/comments", **period)
    assert shown.status_code == 200, admin.alert()
    assert comment in admin.page
    assert re.search(rf'href="/admin/chats#{answered}">Диалог №{answered}</a>, 5 из 5', admin.page)
    after = await log_rows(subject)
    assert after[len(before) :] == [("access", "staff", ["message_text"])]
    async with database.acquire() as conn:
        reason = await conn.fetchval(
            "SELECT reason FROM processing_log WHERE subject_id = $1::uuid ORDER BY id DESC"
            " LIMIT 1",
            subject,
        )
    assert reason == f"комментарий к оценке в отчёте: диалог №{answered}"

    # Without the form's token the comments are refused and nothing is logged.
    forged = await supervisor.post("/admin/reports/comments", data=period)
    assert forged.status_code == 403
    assert await log_rows(subject) == after
    for client in (first, second):
        await client.close()
