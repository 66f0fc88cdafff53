"""The legal clock for data-subject requests, counted as a Russian court would count it.

Expected dates are checked against the official production calendar (Consultant/Garant):
2024 — Saturdays 27 Apr, 2 Nov, 28 Dec worked, 29–30 Apr, 10 May, 30–31 Dec off;
2025 — 1–8 Jan, 1–4 and 8–11 May, 12–15 Jun, 2–4 Nov and 31 Dec off, Saturday 1 Nov worked;
2026 — 1–11 Jan, 9 Mar, 11 May and 31 Dec off.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from okno.platform.rights.deadlines import (
    MOSCOW,
    RULES,
    DeadlineRule,
    RequestClock,
    RequestKind,
    TermUnit,
    Urgency,
    add_working_days,
    calendar_known_through,
    deadline,
    end_of_day,
    extend,
    is_working_day,
    moscow_date,
    repeat_access_allowed,
    urgency,
    working_days_between,
)


def msk(*args: int) -> datetime:
    return datetime(*args, tzinfo=MOSCOW)


def due_day(kind: RequestKind, received_at: datetime, extended: bool = False) -> date:
    return moscow_date(deadline(kind, received_at, extended))


# --- the production calendar ------------------------------------------------------------------


@pytest.mark.parametrize(
    "day",
    [
        date(2024, 4, 27),
        date(2024, 11, 2),
        date(2024, 12, 28),
        date(2025, 11, 1),
    ],
)
def test_a_saturday_the_government_made_a_working_day_is_one(day: date) -> None:
    assert day.weekday() == 5
    assert is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2024, 4, 29),
        date(2024, 4, 30),
        date(2024, 12, 30),
        date(2024, 12, 31),
        date(2025, 5, 2),
        date(2025, 5, 8),
        date(2025, 6, 13),
        date(2025, 11, 3),
        date(2025, 12, 31),
        date(2026, 1, 9),
        date(2026, 12, 31),
    ],
)
def test_a_weekday_the_government_made_a_day_off_is_not_a_working_day(day: date) -> None:
    assert day.weekday() < 5
    assert not is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [date(2026, 3, 9), date(2026, 5, 11)],
)
def test_a_holiday_on_a_weekend_moves_to_the_next_monday(day: date) -> None:
    assert not is_working_day(day)


def test_a_weekend_holiday_moved_elsewhere_by_decree_leaves_its_monday_working() -> None:
    # 23 Feb 2025 was a Sunday; the decree moved its day off to 8 May, not to 24 Feb.
    assert is_working_day(date(2025, 2, 24))
    assert is_working_day(date(2025, 3, 10))


def test_an_ordinary_weekend_is_not_a_working_day() -> None:
    assert not is_working_day(date(2025, 11, 8))
    assert not is_working_day(date(2025, 11, 9))


def test_the_new_year_holidays() -> None:
    worked = [d for d in _days(date(2025, 1, 1), date(2025, 1, 12)) if is_working_day(d)]
    assert worked == [date(2025, 1, 9), date(2025, 1, 10)]
    assert not any(is_working_day(d) for d in _days(date(2026, 1, 1), date(2026, 1, 11)))
    assert is_working_day(date(2026, 1, 12))


def test_the_may_holidays_of_2025() -> None:
    off = [d.day for d in _days(date(2025, 5, 1), date(2025, 5, 12)) if not is_working_day(d)]
    assert off == [1, 2, 3, 4, 8, 9, 10, 11]


@pytest.mark.parametrize(
    ("year", "working_days"),
    [(2024, 248), (2025, 247), (2026, 247)],
)
def test_the_year_has_as_many_working_days_as_the_official_calendar(
    year: int, working_days: int
) -> None:
    assert working_days_between(date(year - 1, 12, 31), date(year, 12, 31)) == working_days


@pytest.mark.parametrize(
    ("first", "last", "working_days"),
    [
        (date(2025, 5, 1), date(2025, 5, 31), 18),
        (date(2025, 11, 1), date(2025, 11, 30), 19),
        (date(2026, 1, 1), date(2026, 1, 31), 15),
    ],
)
def test_months_have_as_many_working_days_as_the_official_calendar(
    first: date, last: date, working_days: int
) -> None:
    assert working_days_between(first - timedelta(days=1), last) == working_days


def test_the_installed_calendar_knows_the_decrees_for_the_years_we_count_in() -> None:
    assert calendar_known_through() >= 2026


def test_the_day_of_the_event_does_not_count() -> None:
    # GK Art. 191: a term begins the day after the event.
    assert add_working_days(date(2025, 10, 6), 1) == date(2025, 10, 7)
    assert add_working_days(date(2025, 10, 10), 1) == date(2025, 10, 13)
    assert add_working_days(date(2025, 10, 11), 1) == date(2025, 10, 13)


def test_zero_working_days_is_the_start_and_a_negative_term_is_refused() -> None:
    assert add_working_days(date(2025, 10, 11), 0) == date(2025, 10, 11)
    with pytest.raises(ValueError, match="negative"):
        add_working_days(date(2025, 10, 11), -1)


@pytest.mark.parametrize("start", [date(2024, 12, 20) + timedelta(days=k) for k in range(20)])
def test_counting_working_days_undoes_adding_them(start: date) -> None:
    for n in (0, 1, 3, 7, 10, 15):
        end = add_working_days(start, n)
        assert working_days_between(start, end) == n
        assert working_days_between(end, start) == -n


# --- deadlines --------------------------------------------------------------------------------


def test_an_access_request_on_29_december_2025_runs_through_the_new_year_holidays() -> None:
    # 30 Dec is day 1; 31 Dec 2025 and 1–11 Jan 2026 are off; 12 Jan is day 2; 22 Jan day 10.
    received = msk(2025, 12, 29, 10, 0)
    due = deadline(RequestKind.ACCESS, received)
    assert due == datetime(2026, 1, 22, 20, 59, 59, 999999, tzinfo=UTC)
    assert due.astimezone(MOSCOW) == msk(2026, 1, 22, 23, 59, 59, 999999)
    assert due.tzinfo is UTC


def test_an_access_request_across_the_may_holidays_of_2025() -> None:
    # 29, 30 Apr; 5, 6, 7 May; 12–16 May.
    assert due_day(RequestKind.ACCESS, msk(2025, 4, 28, 9, 0)) == date(2025, 5, 16)


def test_a_correction_across_the_may_holidays_of_2025() -> None:
    # 5, 6, 7, 12, 13, 14, 15 May.
    assert due_day(RequestKind.CORRECTION, msk(2025, 4, 30, 17, 0)) == date(2025, 5, 15)


def test_a_moved_working_saturday_counts() -> None:
    # Confirmed Thursday 30 Oct 2025: 31 Oct, Saturday 1 Nov, then 5 Nov after 2–4 Nov off.
    assert due_day(RequestKind.UNLAWFUL_STOP, msk(2025, 10, 30, 12, 0)) == date(2025, 11, 5)


def test_a_moved_working_saturday_before_the_new_year_counts() -> None:
    # 27 Dec, Saturday 28 Dec 2024; 30 Dec – 8 Jan off; 9, 10, 13, 14, 15 Jan.
    assert due_day(RequestKind.DESTRUCTION, msk(2024, 12, 26, 12, 0)) == date(2025, 1, 15)


def test_unlawful_processing_must_stop_in_3_and_be_destroyed_in_10_working_days() -> None:
    confirmed = msk(2025, 6, 10, 15, 0)
    # 11 Jun; 12–15 Jun off; 16, 17 Jun.
    assert due_day(RequestKind.UNLAWFUL_STOP, confirmed) == date(2025, 6, 17)
    # 11, 16, 17, 18, 19, 20, 23, 24, 25, 26 Jun.
    assert due_day(RequestKind.UNLAWFUL_DESTRUCTION, confirmed) == date(2025, 6, 26)


def test_a_request_received_late_in_the_evening_utc_counts_from_the_moscow_day() -> None:
    # 21:30 UTC on 29 Dec is 00:30 on 30 Dec in Moscow: the term starts a day later.
    before_midnight = datetime(2025, 12, 29, 20, 59, tzinfo=UTC)
    after_midnight = datetime(2025, 12, 29, 21, 30, tzinfo=UTC)
    assert due_day(RequestKind.ACCESS, before_midnight) == date(2026, 1, 22)
    assert due_day(RequestKind.ACCESS, after_midnight) == date(2026, 1, 23)


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        deadline(RequestKind.ACCESS, datetime(2025, 12, 29, 10, 0))


def test_a_blocking_claim_is_due_at_receipt() -> None:
    received = datetime(2025, 7, 1, 8, 15, 30, tzinfo=UTC)
    assert deadline(RequestKind.BLOCKING, received) == received
    assert deadline(RequestKind.BLOCKING, received.astimezone(MOSCOW)).tzinfo is UTC


def test_consent_withdrawal_gives_30_calendar_days_whatever_the_holidays() -> None:
    assert due_day(RequestKind.CONSENT_WITHDRAWN, msk(2025, 3, 10, 12, 0)) == date(2025, 4, 9)
    assert due_day(RequestKind.PURPOSE_ACHIEVED, msk(2025, 12, 20, 12, 0)) == date(2026, 1, 19)


def test_a_calendar_term_ending_on_a_holiday_is_not_moved() -> None:
    # 2 Dec 2025 + 30 days is 1 Jan 2026; the stricter reading keeps it there.
    assert due_day(RequestKind.CONSENT_WITHDRAWN, msk(2025, 12, 2, 12, 0)) == date(2026, 1, 1)


def test_deferred_destruction_is_due_in_6_months_on_the_same_date_or_the_months_last() -> None:
    assert due_day(RequestKind.DEFERRED_DESTRUCTION, msk(2025, 3, 15, 12, 0)) == date(2025, 9, 15)
    assert due_day(RequestKind.DEFERRED_DESTRUCTION, msk(2025, 8, 31, 12, 0)) == date(2026, 2, 28)


# --- extension --------------------------------------------------------------------------------


def test_an_access_request_may_be_extended_by_5_working_days() -> None:
    received = msk(2025, 12, 29, 10, 0)
    # 23, 26, 27, 28, 29 Jan after the 22 Jan deadline.
    assert due_day(RequestKind.ACCESS, received, extended=True) == date(2026, 1, 29)
    clock = extend(RequestClock(RequestKind.ACCESS, received), msk(2026, 1, 20, 10, 0))
    assert clock.extended
    assert moscow_date(clock.due()) == date(2026, 1, 29)


def test_a_demand_to_stop_processing_may_be_extended_by_5_working_days() -> None:
    received = msk(2025, 10, 30, 10, 0)
    assert due_day(RequestKind.STOP_PROCESSING, received) == date(2025, 11, 14)
    assert due_day(RequestKind.STOP_PROCESSING, received, extended=True) == date(2025, 11, 21)


def test_a_second_extension_is_refused() -> None:
    clock = RequestClock(RequestKind.ACCESS, msk(2025, 12, 29, 10, 0))
    once = extend(clock, msk(2026, 1, 12, 10, 0))
    with pytest.raises(ValueError, match="повторное продление не допускается"):
        extend(once, msk(2026, 1, 13, 10, 0))


def test_an_extension_after_the_deadline_is_refused() -> None:
    clock = RequestClock(RequestKind.ACCESS, msk(2025, 12, 29, 10, 0))
    with pytest.raises(ValueError, match="уже истёк"):
        extend(clock, msk(2026, 1, 23, 0, 0))
    assert extend(clock, msk(2026, 1, 22, 23, 59)).extended


@pytest.mark.parametrize(
    "kind",
    [kind for kind in RequestKind if kind not in {RequestKind.ACCESS, RequestKind.STOP_PROCESSING}],
)
def test_only_access_and_stop_processing_can_be_extended(kind: RequestKind) -> None:
    received = msk(2025, 10, 1, 10, 0)
    with pytest.raises(ValueError, match="продлению не подлежит"):
        deadline(kind, received, extended=True)
    with pytest.raises(ValueError, match="продлению не подлежит"):
        extend(RequestClock(kind, received), received)


# --- the rules --------------------------------------------------------------------------------


def test_every_request_kind_has_a_rule_with_a_russian_label_and_an_article() -> None:
    assert set(RULES) == set(RequestKind)
    for rule in RULES.values():
        assert rule.article.startswith("ст. ")
        assert any("а" <= ch <= "я" for ch in rule.label.lower())


def test_the_terms_can_be_configured_in_one_place() -> None:
    rules = {
        **RULES,
        RequestKind.ACCESS: DeadlineRule(
            label="Запрос сведений",
            duty="ответить",
            article="ст. 14 ч. 3",
            amount=5,
            unit=TermUnit.WORKING_DAYS,
        ),
    }
    received = msk(2025, 10, 6, 10, 0)
    assert moscow_date(deadline(RequestKind.ACCESS, received, rules=rules)) == date(2025, 10, 13)
    with pytest.raises(ValueError, match="продлению не подлежит"):
        deadline(RequestKind.ACCESS, received, extended=True, rules=rules)


@pytest.mark.parametrize(
    ("unit", "amount", "extension", "message"),
    [
        (TermUnit.WORKING_DAYS, -1, 0, "negative"),
        (TermUnit.IMMEDIATE, 3, 0, "no length"),
        (TermUnit.CALENDAR_DAYS, 30, 5, "only a term in working days"),
    ],
)
def test_a_malformed_rule_is_refused(
    unit: TermUnit, amount: int, extension: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        DeadlineRule(
            label="x",
            duty="x",
            article="ст. 1",
            amount=amount,
            unit=unit,
            extension_working_days=extension,
        )


# --- urgency ----------------------------------------------------------------------------------


def test_urgency_colours_a_request_by_the_working_days_left() -> None:
    due = end_of_day(date(2026, 1, 22))
    assert urgency(due, msk(2026, 1, 15, 10, 0)) == Urgency.OK  # 16, 19, 20, 21, 22 left
    assert urgency(due, msk(2026, 1, 19, 10, 0)) == Urgency.OK  # 20, 21, 22 left
    assert urgency(due, msk(2026, 1, 20, 10, 0)) == Urgency.NEAR  # 21, 22 left
    assert urgency(due, msk(2026, 1, 22, 23, 59)) == Urgency.NEAR
    assert urgency(due, msk(2026, 1, 23, 0, 0)) == Urgency.OVERDUE
    assert urgency(due, msk(2026, 1, 20, 10, 0)) == "near"


def test_the_new_year_holidays_do_not_buy_time() -> None:
    # Two weeks of calendar, two working days (12 and 13 Jan).
    assert urgency(end_of_day(date(2026, 1, 13)), msk(2025, 12, 30, 10, 0)) == Urgency.NEAR


def test_the_near_threshold_is_configurable() -> None:
    due = end_of_day(date(2026, 1, 22))
    assert urgency(due, msk(2026, 1, 15, 10, 0), near_working_days=5) == Urgency.NEAR


def test_an_immediate_duty_is_overdue_once_its_moment_has_passed() -> None:
    received = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)
    due = deadline(RequestKind.BLOCKING, received)
    assert urgency(due, received) == Urgency.NEAR
    assert urgency(due, received + timedelta(seconds=1)) == Urgency.OVERDUE


# --- repeat access ----------------------------------------------------------------------------


def test_a_repeat_access_request_is_allowed_30_days_after_the_first() -> None:
    first = msk(2025, 3, 1, 18, 0)
    assert not repeat_access_allowed(first, msk(2025, 3, 30, 23, 59))
    assert repeat_access_allowed(first, msk(2025, 3, 31, 0, 0))


def test_the_30_days_are_counted_in_moscow_dates() -> None:
    # 21:30 UTC on 28 Feb is already 1 Mar in Moscow.
    first = datetime(2025, 2, 28, 21, 30, tzinfo=UTC)
    assert not repeat_access_allowed(first, msk(2025, 3, 30, 12, 0))
    assert repeat_access_allowed(first, msk(2025, 3, 31, 12, 0))


def test_a_repeat_request_after_an_incomplete_answer_is_allowed_at_once() -> None:
    first = msk(2025, 3, 1, 18, 0)
    assert repeat_access_allowed(first, msk(2025, 3, 2, 9, 0), previous_answer_incomplete=True)


def test_the_repeat_access_interval_is_configurable() -> None:
    first = msk(2025, 3, 1, 18, 0)
    assert repeat_access_allowed(first, msk(2025, 3, 15, 9, 0), after_days=14)
    assert not repeat_access_allowed(first, msk(2025, 3, 14, 9, 0), after_days=14)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=k) for k in range((last - first).days + 1)]
