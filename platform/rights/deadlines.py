"""The legal clock for data-subject requests (152-FZ Art. 14, 20, 21).

Every duty the operator owes a data subject has a term, and missing it is a KoAP 13.11 fine, so
the console must show each request's due moment exactly as a court would count it:

- working days are those of the Russian production calendar — public holidays, the days off
  the government moves each year, and the Saturdays it turns into working days — taken from
  the maintained ``holidays`` library, never from a table typed in here;
- a term starts the day after the event (Civil Code Art. 191), and the event's day is its date
  in Moscow, where the operator works, not in UTC, where the database keeps it;
- a term ends at the end of its last day, 23:59:59.999999 Moscow time.

The terms themselves live in one mapping, ``RULES``, so that wording not yet confirmed against
the primary text (see LAW.md) is changed in one place and every function can be given another
mapping.
"""

from __future__ import annotations

import calendar
import enum
import functools
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import assert_never
from zoneinfo import ZoneInfo

import holidays
import msgspec
from holidays.countries.russia import RussiaStaticHolidays

MOSCOW = ZoneInfo("Europe/Moscow")

# DPO console: a request turns "near" when this many working days or fewer are left.
NEAR_WORKING_DAYS = 2
# Art. 14 p.4: a repeat access request may be refused before this many days have passed.
REPEAT_ACCESS_DAYS = 30


# --- the production calendar ------------------------------------------------------------------


@functools.cache
def _non_working_days(year: int) -> frozenset[date]:
    # The library records a moved working Saturday while it populates the year of the decree,
    # which may name a date in the neighbouring year, so both neighbours are loaded too. The
    # result is frozen so that concurrent readers never see a half-populated calendar.
    ru = holidays.country_holidays("RU", years=(year - 1, year, year + 1))
    first = date(year, 1, 1)
    days = (date(year + 1, 1, 1) - first).days
    return frozenset(
        day
        for day in (first + timedelta(days=offset) for offset in range(days))
        if not ru.is_working_day(day)
    )


def is_working_day(day: date) -> bool:
    """Whether the production calendar makes ``day`` a working day.

    A moved working Saturday (e.g. 2025-11-01) is one; a moved day off (2025-11-03) is not.
    """
    return day not in _non_working_days(day.year)


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after ``start``: the event's own day never counts (GK Art. 191)."""
    if n < 0:
        raise ValueError(f"a term cannot be negative: {n} working days")
    day = start
    for _ in range(n):
        day += timedelta(days=1)
        while not is_working_day(day):
            day += timedelta(days=1)
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end``; negative when end is earlier.

    Counted the same way as ``add_working_days``, so the two are inverse:
    ``working_days_between(d, add_working_days(d, n)) == n``.
    """
    if end < start:
        return -working_days_between(end, start)
    return sum(is_working_day(start + timedelta(days=k)) for k in range(1, (end - start).days + 1))


def calendar_known_through() -> int:
    """The last year whose transfer decree the installed ``holidays`` release carries.

    The government publishes next year's moved days in the autumn; for a later year the library
    knows only the statutory holidays, so deadlines past this year may be a day or two off until
    ``holidays`` is upgraded.
    """
    return max(RussiaStaticHolidays.special_public_holidays)


# --- request kinds and their terms ------------------------------------------------------------


class RequestKind(enum.StrEnum):
    """What started the clock. One member per duty, so each has one term."""

    ACCESS = "access"
    CORRECTION = "correction"
    DESTRUCTION = "destruction"
    BLOCKING = "blocking"
    UNLAWFUL_STOP = "unlawful_stop"
    UNLAWFUL_DESTRUCTION = "unlawful_destruction"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    PURPOSE_ACHIEVED = "purpose_achieved"
    STOP_PROCESSING = "stop_processing"
    DEFERRED_DESTRUCTION = "deferred_destruction"


class TermUnit(enum.StrEnum):
    IMMEDIATE = "immediate"
    WORKING_DAYS = "working_days"
    CALENDAR_DAYS = "calendar_days"
    MONTHS = "months"


class DeadlineRule(msgspec.Struct, frozen=True, kw_only=True):
    """One duty's term, as the law states it; shown to the DPO alongside the due date."""

    label: str
    duty: str
    article: str
    amount: int
    unit: TermUnit
    # Working days the term may be extended by, once, with a reasoned notice; 0 = never.
    extension_working_days: int = 0

    def __post_init__(self) -> None:
        # A wrong rule would silently move every deadline of its kind, so refuse it at once.
        if self.amount < 0 or self.extension_working_days < 0:
            raise ValueError(f"{self.label}: a term cannot be negative")
        if self.unit is TermUnit.IMMEDIATE and self.amount != 0:
            raise ValueError(f"{self.label}: an immediate duty has no length")
        if self.extension_working_days and self.unit is not TermUnit.WORKING_DAYS:
            raise ValueError(f"{self.label}: only a term in working days can be extended")

    @property
    def extendable(self) -> bool:
        return self.extension_working_days > 0


RULES: Mapping[RequestKind, DeadlineRule] = MappingProxyType(
    {
        RequestKind.ACCESS: DeadlineRule(
            label="Запрос сведений об обработке ПДн",
            duty="предоставить сведения ч. 7 ст. 14 и сами ПДн либо мотивированный отказ",
            article="ст. 14 ч. 3, ст. 20 ч. 1–2",
            amount=10,
            unit=TermUnit.WORKING_DAYS,
            extension_working_days=5,
        ),
        RequestKind.CORRECTION: DeadlineRule(
            label="Уточнение неточных ПДн",
            duty="внести изменения, уведомить субъекта и получателей",
            article="ст. 20 ч. 3, ст. 21 ч. 2",
            amount=7,
            unit=TermUnit.WORKING_DAYS,
        ),
        RequestKind.DESTRUCTION: DeadlineRule(
            label="Уничтожение незаконно полученных или избыточных ПДн",
            duty="уничтожить ПДн, уведомить субъекта",
            article="ст. 20 ч. 3",
            amount=7,
            unit=TermUnit.WORKING_DAYS,
        ),
        RequestKind.BLOCKING: DeadlineRule(
            label="Блокирование на период проверки",
            duty="заблокировать ПДн с момента обращения",
            article="ст. 21 ч. 1",
            amount=0,
            unit=TermUnit.IMMEDIATE,
        ),
        RequestKind.UNLAWFUL_STOP: DeadlineRule(
            label="Прекращение неправомерной обработки",
            duty="прекратить неправомерную обработку",
            article="ст. 21 ч. 3",
            amount=3,
            unit=TermUnit.WORKING_DAYS,
        ),
        RequestKind.UNLAWFUL_DESTRUCTION: DeadlineRule(
            label="Уничтожение ПДн при невозможности обеспечить правомерность",
            duty="уничтожить ПДн, уведомить субъекта",
            article="ст. 21 ч. 3",
            amount=10,
            unit=TermUnit.WORKING_DAYS,
        ),
        RequestKind.CONSENT_WITHDRAWN: DeadlineRule(
            label="Отзыв согласия",
            duty="прекратить обработку и уничтожить ПДн, если нет иного основания",
            article="ст. 21 ч. 5",
            amount=30,
            unit=TermUnit.CALENDAR_DAYS,
        ),
        RequestKind.PURPOSE_ACHIEVED: DeadlineRule(
            label="Достижение цели обработки",
            duty="прекратить обработку и уничтожить ПДн, если нет иного основания",
            article="ст. 21 ч. 4",
            amount=30,
            unit=TermUnit.CALENDAR_DAYS,
        ),
        RequestKind.STOP_PROCESSING: DeadlineRule(
            label="Требование прекратить обработку",
            duty="прекратить обработку, если нет иного основания",
            article="ст. 21 ч. 5.1",
            amount=10,
            unit=TermUnit.WORKING_DAYS,
            extension_working_days=5,
        ),
        RequestKind.DEFERRED_DESTRUCTION: DeadlineRule(
            label="Уничтожение после блокирования, если в срок невозможно",
            duty="заблокировать ПДн и уничтожить их",
            article="ст. 21 ч. 6",
            amount=6,
            unit=TermUnit.MONTHS,
        ),
    }
)


# --- deadlines --------------------------------------------------------------------------------


def moscow_date(moment: datetime) -> date:
    """The calendar day ``moment`` falls on for the operator, who works on Moscow time."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a naive datetime has no Moscow date; pass an aware one (UTC is stored)")
    return moment.astimezone(MOSCOW).date()


def end_of_day(day: date) -> datetime:
    """The last instant of a Moscow day, in UTC, because a term runs to the end of its last day."""
    return datetime.combine(day, time.max, tzinfo=MOSCOW).astimezone(UTC)


def _add_months(day: date, months: int) -> date:
    # GK Art. 192 p.3: the same date of the last month, or that month's last day if it has none.
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def deadline(
    kind: RequestKind,
    received_at: datetime,
    extended: bool = False,
    *,
    rules: Mapping[RequestKind, DeadlineRule] = RULES,
) -> datetime:
    """When the duty for ``kind`` falls due, as an aware UTC datetime.

    ``received_at`` is the event that starts the term: the request's receipt, the confirmation
    of unlawful processing, the withdrawal. An immediate duty is due at that very moment.
    """
    rule = rules[kind]
    if extended and not rule.extendable:
        raise ValueError(f"срок по «{rule.label}» ({rule.article}) продлению не подлежит")
    start = moscow_date(received_at)
    match rule.unit:
        case TermUnit.IMMEDIATE:
            return received_at.astimezone(UTC)
        case TermUnit.WORKING_DAYS:
            extra = rule.extension_working_days if extended else 0
            last = add_working_days(start, rule.amount + extra)
        case TermUnit.CALENDAR_DAYS:
            # The stricter reading: a last day that is a holiday is not moved (GK Art. 193 is
            # not relied on), so the console never promises a day the regulator may not grant.
            last = start + timedelta(days=rule.amount)
        case TermUnit.MONTHS:
            last = _add_months(start, rule.amount)
        case _ as unknown:
            assert_never(unknown)
    return end_of_day(last)


class RequestClock(msgspec.Struct, frozen=True):
    """One request's term and whether it was already extended; the extension is a one-off."""

    kind: RequestKind
    received_at: datetime
    extended: bool = False

    def due(self, rules: Mapping[RequestKind, DeadlineRule] = RULES) -> datetime:
        return deadline(self.kind, self.received_at, self.extended, rules=rules)


def extend(
    clock: RequestClock,
    now: datetime,
    *,
    rules: Mapping[RequestKind, DeadlineRule] = RULES,
) -> RequestClock:
    """The clock after the reasoned notice of extension was sent to the subject at ``now``.

    The law allows one extension, only for the kinds that name it, and only while the original
    term runs: a notice after the deadline cannot cure a breach that has already happened.
    """
    rule = rules[clock.kind]
    if not rule.extendable:
        raise ValueError(f"срок по «{rule.label}» ({rule.article}) продлению не подлежит")
    if clock.extended:
        raise ValueError(
            f"срок по «{rule.label}» уже продлён; повторное продление не допускается"
            f" ({rule.article})"
        )
    if now > clock.due(rules):
        raise ValueError(f"срок по «{rule.label}» уже истёк; продлить его нельзя")
    return msgspec.structs.replace(clock, extended=True)


# --- the DPO console --------------------------------------------------------------------------


class Urgency(enum.StrEnum):
    OK = "ok"
    NEAR = "near"
    OVERDUE = "overdue"


def urgency(due: datetime, now: datetime, *, near_working_days: int = NEAR_WORKING_DAYS) -> Urgency:
    """How the console colours a request.

    Measured in working days, not hours, because a term that ends after the New Year holidays
    has far less time in it than the calendar suggests.
    """
    if now > due:
        return Urgency.OVERDUE
    left = working_days_between(moscow_date(now), moscow_date(due))
    return Urgency.NEAR if left <= near_working_days else Urgency.OK


def repeat_access_allowed(
    previous_request_at: datetime,
    now: datetime,
    *,
    previous_answer_incomplete: bool = False,
    after_days: int = REPEAT_ACCESS_DAYS,
) -> bool:
    """Whether a repeat access request must be answered rather than may be refused.

    Art. 14 p.4 counts the 30 days from the first request, not from the answer; p.5 lets the
    subject ask again at any time if the first answer was incomplete. Counted by Moscow dates
    and allowed from the 30th day on: wrongly refusing a request is a breach, answering one
    early is not.
    """
    if previous_answer_incomplete:
        return True
    return moscow_date(now) >= moscow_date(previous_request_at) + timedelta(days=after_days)
