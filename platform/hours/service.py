"""Working hours of each team: a weekly schedule in the team's time zone, closed on the days
off of the Russian production calendar (the ``holidays`` library, as the rights deadlines use).

A team without hours works round the clock. While a team is closed, nobody is assigned its
conversations (``okno.platform.chat.routing``) and the client is told when it opens next
(``okno.platform.chat.bot``), in Russian and in the team's time zone. "Now" is
``okno.platform.clock.now()``, which tests move.

Every worker keeps all teams' hours in memory (``okno.platform.shared_cache``); a change is
recorded in the staff audit log in its own transaction and announced to every worker.
"""

from __future__ import annotations

import functools
import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import msgspec

from okno.platform import clock, database, shared_cache
from okno.platform.audit import service as audit
from okno.platform.errors import Refused
from okno.platform.hours.tables import TeamHours
from okno.platform.teams.tables import Team

MOSCOW = "Europe/Moscow"
# Russia's zones, west to east: the schedule's zone is one of them.
ZONES = {
    "Europe/Kaliningrad": "Калининград (МСК−1)",
    "Europe/Moscow": "Москва (МСК)",
    "Europe/Samara": "Самара (МСК+1)",
    "Asia/Yekaterinburg": "Екатеринбург (МСК+2)",
    "Asia/Omsk": "Омск (МСК+3)",
    "Asia/Krasnoyarsk": "Красноярск (МСК+4)",
    "Asia/Irkutsk": "Иркутск (МСК+5)",
    "Asia/Yakutsk": "Якутск (МСК+6)",
    "Asia/Vladivostok": "Владивосток (МСК+7)",
    "Asia/Magadan": "Магадан (МСК+8)",
    "Asia/Kamchatka": "Камчатка (МСК+9)",
}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_LABELS = ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье")
ON_DAY = (
    "в понедельник",
    "во вторник",
    "в среду",
    "в четверг",
    "в пятницу",
    "в субботу",
    "в воскресенье",
)
MONTHS = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
# Far enough to cross the longest run of days off (the New Year holidays) many times over.
LOOKAHEAD_DAYS = 60
CACHE = "hours"


class HoursError(Refused):
    """Hours that cannot be saved; the message says why (in Russian)."""


class Schedule(msgspec.Struct, frozen=True):
    team_id: int
    team_name: str
    always_open: bool = True
    time_zone: str = MOSCOW
    # Monday first: (opens, closes) as "HH:MM" ("24:00" closes at midnight), or None.
    week: tuple[tuple[str, str] | None, ...] = (None,) * 7
    production_calendar: bool = True

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def as_audit(self) -> dict[str, Any]:
        if self.always_open:
            return {"часы": "круглосуточно"}
        values: dict[str, Any] = {
            label: f"{day[0]}–{day[1]}" if day else "выходной"
            for label, day in zip(DAY_LABELS, self.week, strict=True)
        }
        values["часовой пояс"] = self.time_zone
        values["производственный календарь"] = "да" if self.production_calendar else "нет"
        return values

    def _interval(self, day: date) -> tuple[datetime, datetime] | None:
        hours = self.week[day.weekday()]
        if hours is None or (self.production_calendar and is_day_off(day)):
            return None
        opens = datetime.combine(day, time.fromisoformat(hours[0]), self.zone)
        if hours[1] == "24:00":
            closes = datetime.combine(day + timedelta(days=1), time(0), self.zone)
        else:
            closes = datetime.combine(day, time.fromisoformat(hours[1]), self.zone)
        return opens, closes

    def is_open(self, moment: datetime) -> bool:
        if self.always_open:
            return True
        interval = self._interval(moment.astimezone(self.zone).date())
        return interval is not None and interval[0] <= moment < interval[1]

    def next_opening(self, moment: datetime) -> datetime | None:
        """When the team next opens after ``moment`` (``moment`` itself if open), or None."""
        if self.is_open(moment):
            return moment
        today = moment.astimezone(self.zone).date()
        for offset in range(LOOKAHEAD_DAYS):
            interval = self._interval(today + timedelta(days=offset))
            if interval is not None and moment < interval[0]:
                return interval[0]
        return None

    def after_working(self, start: datetime, seconds: float) -> datetime | None:
        """The moment ``seconds`` of working time after ``start`` (an SLA's due time), or
        None if the schedule has not that much within the lookahead."""
        if self.always_open:
            return start + timedelta(seconds=seconds)
        left = seconds
        first_day = start.astimezone(self.zone).date()
        for offset in range(LOOKAHEAD_DAYS):
            interval = self._interval(first_day + timedelta(days=offset))
            if interval is None or interval[1] <= start:
                continue
            begins = max(interval[0], start)
            available = (interval[1] - begins).total_seconds()
            if available >= left:
                return begins + timedelta(seconds=left)
            left -= available
        return None

    def opening_text(self, moment: datetime) -> str:
        """The next opening in words, for a client: «завтра, 2 декабря, в 09:00 по
        московскому времени»."""
        opening = self.next_opening(moment)
        if opening is None:
            return "позже — расписание пока не назначено"
        local, today = opening.astimezone(self.zone), moment.astimezone(self.zone).date()
        days = (local.date() - today).days
        when = "сегодня" if days == 0 else "завтра" if days == 1 else ON_DAY[local.weekday()]
        zone = (
            "по московскому времени"
            if self.time_zone == MOSCOW
            else f"по местному времени ({ZONES.get(self.time_zone, self.time_zone)})"
        )
        return f"{when}, {local.day} {MONTHS[local.month - 1]}, в {local:%H:%M} {zone}"


class Availability(msgspec.Struct, frozen=True):
    open: bool
    next_opening: str | None  # in words, while closed


@functools.cache
def _days_off(year: int) -> frozenset[date]:
    # Public holidays and the days off the government moves, as the production calendar has
    # them. Neighbouring years are loaded too: a decree may move a day into the next year.
    calendar = holidays.country_holidays("RU", years=(year - 1, year, year + 1))
    return frozenset(day for day in calendar if day.year == year)


def is_day_off(day: date) -> bool:
    """Whether the production calendar makes ``day`` a holiday or a moved day off (ordinary
    Saturdays and Sundays are the weekly schedule's business)."""
    return day in _days_off(day.year)


# ------------------------------------------------------------------ reading


async def _load() -> dict[int, Schedule]:
    teams = await Team.select(Team.id, Team.name).order_by(Team.id).run()
    rows = {row["team_id"]: row for row in await TeamHours.select().run()}
    return {team["id"]: _schedule(team["id"], team["name"], rows.get(team["id"])) for team in teams}


_cache: shared_cache.Shared[dict[int, Schedule]] = shared_cache.Shared(CACHE, _load)


def _schedule(team_id: int, name: str, row: dict[str, Any] | None) -> Schedule:
    if row is None:
        return Schedule(team_id, name)
    week = msgspec.json.decode(row["week"]) if isinstance(row["week"], str) else row["week"]
    return Schedule(
        team_id,
        name,
        always_open=False,
        time_zone=row["time_zone"],
        week=tuple(tuple(day) if day else None for day in week),
        production_calendar=row["production_calendar"],
    )


async def schedules() -> dict[int, Schedule]:
    """Every team's hours, by team id (teams without hours are open round the clock)."""
    return await _cache.get()


async def schedule(team_id: int) -> Schedule | None:
    return (await schedules()).get(team_id)


async def closed_team_ids(moment: datetime | None = None) -> list[int]:
    """Teams whose hours say they are closed now. A team the cache does not know yet (made
    since it was read) has no hours: it is open, as every team without hours is."""
    moment = moment or clock.now()
    return [team for team, hours in (await schedules()).items() if not hours.is_open(moment)]


async def availability(team_id: int | None, moment: datetime | None = None) -> Availability:
    hours = await schedule(team_id) if team_id is not None else None
    if hours is None:
        return Availability(True, None)
    moment = moment or clock.now()
    if hours.is_open(moment):
        return Availability(True, None)
    return Availability(False, hours.opening_text(moment))


# ------------------------------------------------------------------ changing


class HoursForm(msgspec.Struct):
    """The hours page's form: a checkbox for round the clock, a zone, and each day's times
    (both empty: a day off)."""

    always_open: str = ""
    time_zone: str = MOSCOW
    production_calendar: str = ""
    mon_opens: str = ""
    mon_closes: str = ""
    tue_opens: str = ""
    tue_closes: str = ""
    wed_opens: str = ""
    wed_closes: str = ""
    thu_opens: str = ""
    thu_closes: str = ""
    fri_opens: str = ""
    fri_closes: str = ""
    sat_opens: str = ""
    sat_closes: str = ""
    sun_opens: str = ""
    sun_closes: str = ""


def parse(team_id: int, team_name: str, form: HoursForm) -> Schedule:
    """The schedule a form describes, or ``HoursError`` saying what is wrong."""
    if form.always_open:
        return Schedule(team_id, team_name)
    if form.time_zone not in ZONES:
        raise HoursError("выберите часовой пояс из списка")
    week: list[tuple[str, str] | None] = []
    for key, label in zip(DAYS, DAY_LABELS, strict=True):
        opens = getattr(form, f"{key}_opens").strip()
        closes = getattr(form, f"{key}_closes").strip()
        if not opens and not closes:
            week.append(None)
            continue
        if not (CLOCK_TIME.match(opens) and CLOCK_TIME.match(closes)) or opens == "24:00":
            raise HoursError(f"{label}: укажите время начала и конца как ЧЧ:ММ, например 09:00")
        if opens >= closes:
            raise HoursError(f"{label}: конец рабочего дня должен быть позже начала")
        week.append((opens, closes))
    if all(day is None for day in week):
        raise HoursError("укажите хотя бы один рабочий день или выберите «круглосуточно»")
    return Schedule(
        team_id,
        team_name,
        always_open=False,
        time_zone=form.time_zone,
        week=tuple(week),
        production_calendar=bool(form.production_calendar),
    )


async def save(actor: audit.Actor, team_id: int, form: HoursForm) -> Schedule:
    """Replace a team's hours; the change and its audit entry commit together."""
    before = await _fresh(team_id)
    if before is None:
        raise HoursError("нет такой команды")
    after = parse(team_id, before.team_name, form)
    if after == before:
        return after
    async with database.transaction():
        await TeamHours.delete().where(TeamHours.team_id == team_id).run()
        if not after.always_open:
            await TeamHours.insert(
                TeamHours(
                    team_id=team_id,
                    time_zone=after.time_zone,
                    week=msgspec.json.encode([list(d) if d else None for d in after.week]).decode(),
                    production_calendar=after.production_calendar,
                )
            ).run()
        await audit.record(
            actor,
            audit.Entity.TEAM,
            before.team_name,
            "часы работы",
            before.as_audit(),
            after.as_audit(),
        )
    await shared_cache.announce(CACHE)
    return after


async def _fresh(team_id: int) -> Schedule | None:
    """One team's hours read from the database, not the cache (the "before" of a change)."""
    team = await Team.select(Team.name).where(Team.id == team_id).first().run()
    if team is None:
        return None
    rows = await TeamHours.select().where(TeamHours.team_id == team_id).run()
    return _schedule(team_id, team["name"], rows[0] if rows else None)
