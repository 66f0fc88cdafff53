"""Working hours: the schedule and the production calendar, the next opening in words, the
«Часы работы» page (bad input, who may change what), and the test clock's own rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import asyncpg
import httpx
import pytest

from okno.platform.hours.service import HoursError, HoursForm, Schedule, is_day_off, parse
from okno.platform.settings import SettingsError, load_settings
from tests.chat_support import Client, join_team
from tests.conftest import ServerProcess, add_staff, staff_client
from tests.fresh_okno import ClockFile, fresh_okno

WEEKDAYS = {
    **{f"{day}_opens": "09:00" for day in ("mon", "tue", "wed", "thu", "fri")},
    **{f"{day}_closes": "18:00" for day in ("mon", "tue", "wed", "thu", "fri")},
}


def working_week(**changes: str) -> Schedule:
    return parse(1, "Поддержка", HoursForm(**{"production_calendar": "on", **WEEKDAYS, **changes}))


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment)


# ------------------------------------------------------------------ the schedule


def test_a_team_is_open_within_its_hours_in_its_own_time_zone() -> None:
    moscow = working_week()
    assert moscow.is_open(at("2026-12-01T09:00:00+03:00"))
    assert not moscow.is_open(at("2026-12-01T18:00:00+03:00"))
    assert not moscow.is_open(at("2026-12-05T12:00:00+03:00"))  # a Saturday
    yekaterinburg = working_week(time_zone="Asia/Yekaterinburg")
    # 09:00 in Yekaterinburg is 07:00 in Moscow.
    assert yekaterinburg.is_open(at("2026-12-01T07:00:00+03:00"))
    assert yekaterinburg.opening_text(at("2026-12-01T06:00:00+03:00")) == (
        "сегодня, 1 декабря, в 09:00 по местному времени (Екатеринбург (МСК+2))"
    )


def test_a_production_calendar_day_off_is_closed_even_on_a_weekday() -> None:
    # 5 January 2027 is a Tuesday of the New Year holidays; 22 February 2027 a Monday the
    # government made a day off; 4 November (Unity Day) a public holiday.
    for day in ("2027-01-05", "2027-02-22", "2026-11-04"):
        assert is_day_off(datetime.fromisoformat(day).date()), day
        assert not working_week().is_open(at(f"{day}T12:00:00+03:00")), day
        assert working_week(production_calendar="").is_open(at(f"{day}T12:00:00+03:00")), day


def test_after_the_new_year_holidays_the_next_opening_is_the_first_working_day() -> None:
    assert working_week().opening_text(at("2026-12-31T19:00:00+03:00")) == (
        "в понедельник, 11 января, в 09:00 по московскому времени"
    )
    assert working_week().opening_text(at("2026-12-01T20:00:00+03:00")) == (
        "завтра, 2 декабря, в 09:00 по московскому времени"
    )


def test_a_day_may_run_to_midnight() -> None:
    late = working_week(fri_closes="24:00")
    assert late.is_open(at("2026-12-04T23:59:00+03:00"))
    assert not late.is_open(at("2026-12-05T00:00:00+03:00"))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"mon_opens": "9"}, "понедельник: укажите время начала и конца как ЧЧ:ММ"),
        ({"tue_opens": "18:00", "tue_closes": "09:00"}, "вторник: конец рабочего дня"),
        ({"wed_closes": ""}, "среда: укажите время"),
        ({"thu_opens": "25:00"}, "четверг: укажите время"),
        ({"time_zone": "Europe/London"}, "выберите часовой пояс из списка"),
        ({key: "" for key in WEEKDAYS}, "хотя бы один рабочий день"),
    ],
)
def test_a_schedule_that_makes_no_sense_is_refused(changes: dict[str, str], message: str) -> None:
    with pytest.raises(HoursError, match=message):
        working_week(**changes)


def test_the_test_clock_is_refused_in_production() -> None:
    with pytest.raises(SettingsError, match="OKNO_TEST_CLOCK_FILE: только для тестов"):
        load_settings(
            {"OKNO_TEST_CLOCK_FILE": "/tmp/now", "OKNO_PUBLIC_URL": "https://chat.example.ru"}
        )
    assert load_settings({"OKNO_TEST_CLOCK_FILE": "/tmp/now"}).test_clock_file == "/tmp/now"


# ------------------------------------------------------------------ the page and the server


@pytest.fixture(scope="module")
def clock(tmp_path_factory: pytest.TempPathFactory) -> ClockFile:
    return ClockFile(tmp_path_factory.mktemp("clock") / "now")


@pytest.fixture(scope="module")
def okno(database_url: str, clock: ClockFile) -> Iterator[ServerProcess]:
    clock.set("2027-01-05T10:00:00+03:00")  # a Tuesday of the New Year holidays
    with fresh_okno(database_url, OKNO_TEST_CLOCK_FILE=str(clock.path)) as server:
        yield server


async def post_hours(client: httpx.AsyncClient, team: int, **fields: str) -> httpx.Response:
    form = {"time_zone": "Europe/Moscow", "_csrf_token": client.csrf, **fields}  # type: ignore[attr-defined]
    return await client.post(f"/admin/hours/{team}", data=form)


async def test_on_a_holiday_the_client_is_told_the_first_working_day(
    okno: ServerProcess, admin: httpx.AsyncClient
) -> None:
    saved = await post_hours(admin, 1, production_calendar="on", **WEEKDAYS)
    assert saved.status_code == 303, saved.text
    page = (await admin.get("/admin/hours")).text
    assert "откроется в понедельник, 11 января, в 09:00 по московскому времени" in page

    client = await Client.open(okno.url)
    await client.say("С Новым годом! Когда доставите заказ?")
    reply = await client.message(author={"kind": "bot", "name": None})
    assert reply["text"] == (
        "Сейчас нерабочее время. Операторы ответят в понедельник, 11 января, в 09:00 по"
        " московскому времени. Ваше сообщение сохранено и ждёт в очереди; страницу можно"
        " закрыть — ответ появится в этом чате."
    )
    assert reply["buttons"] == [{"id": "offline:contacts", "label": "Оставить e-mail для ответа"}]
    await client.close()


async def bot_says(client: Client, start: str) -> dict[str, Any]:
    """The next bot message whose text starts with ``start`` (others are skipped)."""
    while True:
        frame = await client.until("message")
        message = frame["message"]
        if message["author"]["kind"] == "bot" and message["text"].startswith(start):
            return message


async def test_after_hours_a_client_may_leave_an_email_but_only_under_consent(
    okno: ServerProcess, admin: httpx.AsyncClient, okno_db: asyncpg.Connection
) -> None:
    saved = await post_hours(admin, 1, production_calendar="on", **WEEKDAYS)
    assert saved.status_code == 303
    client = await Client.open(okno.url)  # on a holiday: the team is closed
    ack = await client.say("Перезвоните мне после праздников")
    reply = await client.message(author={"kind": "bot", "name": None})

    # No consent yet: the bot offers it first, and the e-mail button stays for afterwards.
    await client.send(type="button", seq=reply["seq"], button="offline:contacts")
    offer = await bot_says(client, "Чтобы оставить e-mail для ответа, нужно ваше согласие.")
    give = next(b["id"] for b in offer["buttons"] if b["id"].startswith("consent:give:"))
    await client.send(type="button", seq=offer["seq"], button=give)
    await bot_says(client, "Спасибо, согласие сохранено.")

    # With consent: a one-field form asks for the e-mail; it is saved under that consent.
    await client.send(type="button", seq=reply["seq"], button="offline:contacts")
    form = await bot_says(client, "Укажите e-mail")
    assert form["form"]["field"] == "email"
    await client.send(type="field", seq=form["seq"], value="anna@example.ru")
    subject = await okno_db.fetchval(
        "SELECT subject_id FROM conversation WHERE id = $1", ack["conversation"]
    )
    for _ in range(50):  # the frame is handled after it is sent; read until it has been
        saved = await okno_db.fetchrow(
            "SELECT value, purpose, consent_id FROM subject_field"
            " WHERE subject_id = $1 AND field = 'email'",
            subject,
        )
        if saved is not None:
            break
        await client.quiet(0.1)
    assert saved is not None
    assert (saved["value"], saved["purpose"]) == ("anna@example.ru", "support")
    assert saved["consent_id"] is not None
    await client.close()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"mon_opens": "9 утра", "mon_closes": "18:00"}, "понедельник: укажите время"),
        ({"fri_opens": "19:00", "fri_closes": "10:00"}, "пятница: конец рабочего дня"),
        ({"time_zone": "Mars/Olympus", **WEEKDAYS}, "выберите часовой пояс из списка"),
        ({}, "укажите хотя бы один рабочий день"),
    ],
)
async def test_bad_hours_are_refused_with_a_clear_message_and_change_nothing(
    admin: httpx.AsyncClient, okno_db: asyncpg.Connection, fields: dict[str, str], message: str
) -> None:
    before = await okno_db.fetch("SELECT * FROM team_hours ORDER BY team_id")
    logged = await okno_db.fetchval("SELECT count(*) FROM staff_audit")
    refused = await post_hours(admin, 1, **fields)
    assert refused.status_code == 400
    assert f"Не сохранено: {message}" in refused.text
    assert await okno_db.fetch("SELECT * FROM team_hours ORDER BY team_id") == before
    assert await okno_db.fetchval("SELECT count(*) FROM staff_audit") == logged


async def test_an_unknown_team_is_not_found(admin: httpx.AsyncClient) -> None:
    assert (await post_hours(admin, 999, **WEEKDAYS)).status_code == 404


async def test_round_the_clock_again_removes_the_schedule(
    admin: httpx.AsyncClient, okno_db: asyncpg.Connection
) -> None:
    assert (await post_hours(admin, 1, **WEEKDAYS)).status_code == 303
    assert (await post_hours(admin, 1, always_open="on")).status_code == 303
    assert await okno_db.fetchval("SELECT count(*) FROM team_hours WHERE team_id = 1") == 0
    assert "круглосуточно" in (await admin.get("/admin/hours")).text
    last = await okno_db.fetchrow("SELECT before, after FROM staff_audit ORDER BY id DESC LIMIT 1")
    assert '"часы": "круглосуточно"' in last["after"]


@pytest.mark.parametrize("role", ["operator", "dpo"])
async def test_operators_and_the_dpo_cannot_change_hours(
    okno: ServerProcess, admin: httpx.AsyncClient, okno_db: asyncpg.Connection, role: str
) -> None:
    await add_staff(admin, f"{role}-hours", role)
    member = await staff_client(okno.url, f"{role}-hours")
    before = await okno_db.fetch("SELECT * FROM team_hours")
    assert (await member.get("/admin/hours")).status_code == 403
    assert (await post_hours(member, 1, always_open="on")).status_code == 403
    assert await okno_db.fetch("SELECT * FROM team_hours") == before
    await member.aclose()


async def test_a_supervisor_changes_only_the_hours_of_their_own_teams(
    okno: ServerProcess, admin: httpx.AsyncClient, okno_db: asyncpg.Connection
) -> None:
    await add_staff(admin, "sveta", "supervisor")
    sveta = await staff_client(okno.url, "sveta")
    assert "Вы не состоите ни в одной команде" in (await sveta.get("/admin/hours")).text
    assert (await post_hours(sveta, 1, always_open="on")).status_code == 404

    staff_id = await okno_db.fetchval("SELECT id FROM staff_user WHERE login = 'sveta'")
    await join_team(staff_id, 1, base_url=okno.url)  # the admin adds her on the team's page
    assert "Поддержка" in (await sveta.get("/admin/hours")).text
    saved = await post_hours(sveta, 1, sat_opens="10:00", sat_closes="16:00")
    assert saved.status_code == 303, saved.text
    entry = await okno_db.fetchrow("SELECT actor_login FROM staff_audit ORDER BY id DESC LIMIT 1")
    assert entry["actor_login"] == "sveta"
    await sveta.aclose()


async def test_a_waiting_client_is_told_at_once_when_the_hours_change(
    okno: ServerProcess, admin: httpx.AsyncClient
) -> None:
    saved = await post_hours(admin, 1, production_calendar="on", **WEEKDAYS)
    assert saved.status_code == 303
    client = await Client.open(okno.url)  # on a holiday, nobody of the team online
    ack = await client.say("Есть кто-нибудь?")
    closed = await client.until("state", conversation=ack["conversation"])
    while closed["queue_position"] is None:  # the first state may precede the queue's
        closed = await client.until("state", conversation=ack["conversation"])
    assert closed["availability"]["open"] is False

    # The admin switches the team to round the clock: every worker hears of it and the
    # waiting client's queue note changes without a new message. Nobody is online, and the
    # state says so: the chat does not promise that an operator answers soon.
    assert (await post_hours(admin, 1, always_open="on")).status_code == 303
    reopened = await client.until(
        "state",
        wait=10,
        availability={
            "open": True,
            "next_opening": None,
            "operators_online": False,
        },
    )
    assert reopened["queue_position"] is not None
    await client.close()
