"""The supervisor's report, monitor and SLA targets, against figures the test works out
itself from what it made happen on okno's surfaces: a team, a topic and an operator made on
the admin's pages, clients on /ws/client, the operator on /ws/staff.

The team is the test's own, and the report is narrowed to it, so the session's other
conversations do not count. Time is moved only by SQL, each time with a comment.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from okno.platform import database
from okno.platform.hours.service import Schedule
from tests.admin_support import admin_console
from tests.chat_support import Client, Staff, log_rows, subject_of
from tests.conftest import STAFF_PASSWORD, staff_client

MOSCOW = ZoneInfo("Europe/Moscow")
LATE = timedelta(minutes=10)


async def move_back(conversation: int, by: timedelta) -> None:
    """Moving time: the conversation, its messages and its events happened ``by`` earlier
    (its queue wait and the client's wait start then), without sleeping."""
    async with database.acquire() as conn:
        await conn.execute(
            "UPDATE conversation SET created_at = created_at - $2::interval,"
            " waiting_since = waiting_since - $2::interval WHERE id = $1",
            conversation,
            by,
        )
        await conn.execute(
            "UPDATE message SET created_at = created_at - $2::interval WHERE conversation_id = $1",
            conversation,
            by,
        )
        await conn.execute(
            "UPDATE conversation_event SET at = at - $2::interval WHERE conversation_id = $1",
            conversation,
            by,
        )


async def first_reply_wait(conversation: int) -> float:
    """From the client's first message to the first staff answer, read from the messages."""
    async with database.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT min(created_at) FILTER (WHERE author_kind = 'subject') AS asked,"
            " min(created_at) FILTER (WHERE author_kind = 'staff' AND NOT internal) AS answered"
            " FROM message WHERE conversation_id = $1",
            conversation,
        )
    return (row["answered"] - row["asked"]).total_seconds()


def parse_csv(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def duration_seconds(text: str) -> int:
    """The page's «10 мин 03 с» back to seconds."""
    parts = dict((unit, int(n)) for n, unit in re.findall(r"(\d+) (ч|мин|с)", text))
    return parts.get("ч", 0) * 3600 + parts.get("мин", 0) * 60 + parts.get("с", 0)


@pytest.fixture
async def desk(base_url: str, db: None):
    """A team (its name starts with «=», as a spreadsheet formula would), a topic by hand (so
    chats wait in the queue), one operator online and a supervisor."""
    suffix = secrets.token_hex(3)
    admin = await admin_console(base_url)
    team = await admin.create_team(f"=Отчёты {suffix}")
    slug = f"reports-{suffix}"
    await admin.create_topic(slug, f"Отчёты {suffix}", team, "manual")
    await admin.create_account(f"olga-{suffix}", "operator", STAFF_PASSWORD, team_id=team)
    await admin.create_account(f"sveta-{suffix}", "supervisor", STAFF_PASSWORD)
    operator = await Staff.open(base_url, f"olga-{suffix}")
    supervisor = await staff_client(base_url, f"sveta-{suffix}")
    yield {
        "admin": admin,
        "team": team,
        "slug": slug,
        "operator": operator,
        "supervisor": supervisor,
        "suffix": suffix,
    }
    await admin.archive_topic(slug)  # the session's clients see the installed topics only
    await operator.close()
    await supervisor.aclose()
    await admin.close()


async def client_on(base_url: str, slug: str, text: str) -> tuple[Client, int]:
    client = await Client.open(base_url)
    await client.send(type="topic", slug=slug)
    await client.until("state", topic=slug)
    return client, (await client.say(text))["conversation"]


async def monitor(supervisor: httpx.AsyncClient) -> str:
    response = await supervisor.get("/admin/monitor/live")
    assert response.status_code == 200, response.text
    return response.text


async def test_monitor_and_report_match_what_happened(base_url, desk) -> None:
    admin, team, operator = desk["admin"], desk["team"], desk["operator"]
    supervisor = desk["supervisor"]
    # The admin sets the team's target: a first answer within 5 minutes.
    response = await admin.submit(
        "/admin/sla/", f"/admin/sla/team/{team}", first_response_minutes="5"
    )
    assert response.status_code == 303, admin.alert()
    async with database.acquire() as conn:
        audited = await conn.fetchval(
            "SELECT count(*) FROM staff_audit WHERE change = 'цели SLA' AND entity_key = $1",
            f"=Отчёты {desk['suffix']}",
        )
    assert audited == 1

    # A: asks, waits 10 minutes in the queue (moved), the operator takes it, answers, resolves,
    # and the client rates 4 with a comment.
    first, answered = await client_on(base_url, desk["slug"], "Где мой заказ?")
    await move_back(answered, LATE)
    # B: asks and is closed without an answer (missed), then writes again (reopened).
    second, missed = await client_on(base_url, desk["slug"], "Алло?")

    live = await monitor(supervisor)
    row = re.search(rf'<tr data-team="{team}" data-topic="\d+">.*?</tr>', live, re.S)
    assert row
    assert 'data-waiting="2"' in row.group(0)
    assert f'data-conversation="{answered}"' in live  # past its 5 minutes, not answered
    assert f'data-conversation="{missed}"' not in live

    await operator.send(type="take", conversation=answered)
    while (await operator.until("conversation", wait=10, id=answered))["assignee"] is None:
        pass
    await operator.say(answered, "Заказ в пути")
    await first.message(text="Заказ в пути")
    live = await monitor(supervisor)
    chats = re.search(rf'data-staff="{operator_id(live, desk)}">.*?data-chats="(\d+)"', live, re.S)
    assert chats
    assert chats.group(1) == "1"
    assert f'data-conversation="{answered}"' not in live  # answered: the first target is met

    await operator.send(type="status", conversation=answered, status="resolved")
    question = await first.message(text="Ваш вопрос решён?")
    await first.send(type="button", seq=question["seq"], button="resolved:yes")
    rating = await first.message(text="Оцените, пожалуйста, как мы помогли: от 1 до 5.")
    await first.send(type="button", seq=rating["seq"], button="rate:4")
    form = await first.message(
        text="Спасибо за оценку! Если хотите, напишите пару слов — отзыв можно будет опубликовать."
    )
    await first.send(type="field", seq=form["seq"], value="Быстро нашли")
    await first.message(text="Опубликовать отзыв на странице отзывов?")

    await operator.send(type="status", conversation=missed, status="resolved")
    await second.message(text="Ваш вопрос решён?")
    await second.say("Нет, не решён")  # writing again reopens it
    await operator.until("conversation", wait=10, id=missed, status="new")  # back in the queue

    # What the test works out itself.
    wait = await first_reply_wait(answered)
    assert wait >= LATE.total_seconds()
    async with database.acquire() as conn:
        created = await conn.fetch(
            "SELECT created_at FROM conversation WHERE id = ANY($1)", [answered, missed]
        )
    heat: dict[tuple[int, int], int] = {}
    for row_ in created:
        local = row_["created_at"].astimezone(MOSCOW)
        heat[(local.isoweekday(), local.hour)] = heat.get((local.isoweekday(), local.hour), 0) + 1

    subject = await subject_of(answered)
    logged = await log_rows(subject)
    today = datetime.now(UTC).astimezone(MOSCOW).date()
    period = {"start": str(today - timedelta(days=1)), "end": str(today), "team": str(team)}
    page = await supervisor.get("/admin/reports/", params=period)
    assert page.status_code == 200, page.text
    assert await log_rows(subject) == logged  # a report is no access to anyone's data

    def metric(name: str) -> str:
        found = re.search(rf'data-metric="{name}">([^<]*)<', page.text)
        assert found, name
        return found.group(1).strip()

    assert [metric(m) for m in ("created", "resolved", "reopened", "missed")] == [
        "2",
        "2",
        "1",
        "1",
    ]
    assert abs(duration_seconds(metric("first_response_avg")) - wait) <= 1
    assert metric("breaches") == "1 / 0"
    assert metric("csat_average") == "4.00"
    assert metric("csat_rate") == "50 %"
    assert metric("csat_comments") == "1"
    assert "<svg" in page.text
    assert "https://" not in page.text.split("<svg", 1)[1]
    assert f'href="/admin/chats#{missed}"' in page.text  # the drill-down, by id only

    # The same figures in the CSV, the team's «=» defused for spreadsheets.
    groups = await supervisor.get("/admin/reports/csv", params={**period, "table": "groups"})
    assert groups.status_code == 200
    assert groups.headers["content-type"].startswith("text/csv")
    table = parse_csv(groups.content)
    header, rows = table[0], {r[0]: r for r in table[1:]}
    mine = rows[f"'=Отчёты {desk['suffix']}"]
    column = dict(zip(header, mine, strict=True))
    assert (column["Новые"], column["Решены"], column["Открыты снова"]) == ("2", "2", "1")
    assert column["Пропущены"] == "1"
    assert column["Назначено"] == "1"
    assert abs(float(column["Первый ответ, среднее"]) - wait) <= 0.01
    assert abs(float(column["Ожидание в очереди, среднее"]) - LATE.total_seconds()) <= 30
    assert column["Первый ответ позже цели SLA"] == "1"
    assert rows["Итого"][1:4] == ["2", "2", "1"]

    heat_csv = parse_csv(
        (await supervisor.get("/admin/reports/csv", params={**period, "table": "heat"})).content
    )
    got = {
        (day, hour): int(value)
        for day, line in enumerate(heat_csv[1:], 1)
        for hour, value in enumerate(line[1:])
        if value != "0"
    }
    assert got == heat
    csat = parse_csv(
        (await supervisor.get("/admin/reports/csv", params={**period, "table": "csat"})).content
    )
    assert [r[1] for r in csat[1:]] == ["0", "0", "0", "1", "0"]

    # Drilling down is opening the conversation in the console: an access, logged there.
    await operator.open_conversation(missed)
    assert ("access", "staff", ["message_text"]) in (await log_rows(await subject_of(missed)))
    for client in (first, second):
        await client.close()


def operator_id(live: str, desk: dict) -> int:
    found = re.search(r'<tr data-staff="(\d+)"><th scope="row">olga-' + desk["suffix"], live)
    assert found, "the operator is not on the monitor"
    return int(found.group(1))


async def test_bad_report_filters_are_refused_with_a_message(base_url, desk) -> None:
    supervisor = desk["supervisor"]
    for params in (
        {"start": "2026-13-01"},
        {"start": "2026-12-02", "end": "2026-12-01"},
        {"by": "client"},
        {"channel": "telegram"},
    ):
        page = await supervisor.get("/admin/reports/", params=params)
        assert page.status_code == 400, params
        assert "Not Found" not in page.text
        assert "Bad Request" not in page.text
    wrong = await supervisor.get("/admin/reports/csv", params={"table": "messages"})
    assert wrong.status_code == 400
    response = await desk["admin"].submit(
        "/admin/sla/", f"/admin/sla/team/{desk['team']}", first_response_minutes="пять"
    )
    assert response.status_code == 400
    assert "целое число минут" in (desk["admin"].alert() or "")


def test_sla_minutes_count_working_hours_and_skip_days_off() -> None:
    # Mon–Fri 09:00–18:00 Moscow; Friday 2026-12-04 17:30 plus 60 working minutes is Monday
    # 2026-12-07 09:30. 31 December 2026 is a day off of the production calendar, and so are
    # 1–8 January: an hour from then is Monday 11 January, 10:00.
    week = (("09:00", "18:00"),) * 5 + (None, None)
    hours = Schedule(1, "Поддержка", always_open=False, week=week)
    friday = datetime(2026, 12, 4, 17, 30, tzinfo=MOSCOW)
    assert hours.after_working(friday, 3600) == datetime(2026, 12, 7, 9, 30, tzinfo=MOSCOW)
    new_year = datetime(2026, 12, 31, 17, 30, tzinfo=MOSCOW)
    due = hours.after_working(new_year, 3600)
    assert due == datetime(2027, 1, 11, 10, 0, tzinfo=MOSCOW)
    always = Schedule(1, "Поддержка")
    assert always.after_working(friday, 60) == friday + timedelta(minutes=1)
