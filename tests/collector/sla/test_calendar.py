"""Contract time against hand-computed figures: business hours across a weekend, a holiday, a make-up workday, DST."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from collector.sla.calendar import Always, BusinessHours, parse_hours

SH = ZoneInfo("Asia/Shanghai")
H = 3_600_000


def at(text: str, tz: ZoneInfo = SH) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=tz).timestamp() * 1000)


OFFICE = BusinessHours.parse("Asia/Shanghai", ["mon-fri 09:00-18:00"])
# 2026-11-16 is a Monday, made a holiday here.
OFFICE_HOLIDAY = BusinessHours.parse("Asia/Shanghai", ["mon-fri 09:00-18:00"], holidays=[dt.date(2026, 11, 16)])


def test_friday_evening_to_tuesday_morning_across_a_weekend_and_a_holiday() -> None:
    start, ack = at("2026-11-13 17:00"), at("2026-11-17 10:30")             # Friday 17:00 → Tuesday 10:30
    # Friday 17:00–18:00 (1 h) + Monday 9 h + Tuesday 09:00–10:30 (1.5 h)
    assert OFFICE.working_ms(start, ack) == int(11.5 * H)
    # Monday is a holiday: Friday 1 h + Tuesday 1.5 h
    assert OFFICE_HOLIDAY.working_ms(start, ack) == int(2.5 * H)
    # The 2 h response target runs out on Tuesday 10:00 (Monday 10:00 without the holiday); 75 % on Tuesday 09:30.
    assert OFFICE_HOLIDAY.deadline(start, 2 * H) == at("2026-11-17 10:00")
    assert OFFICE.deadline(start, 2 * H) == at("2026-11-16 10:00")
    assert OFFICE_HOLIDAY.deadline(start, int(1.5 * H)) == at("2026-11-17 09:30")
    # 48 h of office time from Friday 17:00: 1 + 9 (Tue) + 9 (Wed) + 9 (Thu) + 9 (Fri) + 9 (Mon 23rd) = 46, + 2 h on Tuesday 24th.
    assert OFFICE_HOLIDAY.deadline(start, 48 * H) == at("2026-11-24 11:00")


def test_a_start_outside_hours_counts_from_the_next_opening() -> None:
    assert OFFICE.working_ms(at("2026-11-21 02:00"), at("2026-11-23 09:30")) == 30 * 60_000   # Saturday night → Monday 09:30
    assert OFFICE.deadline(at("2026-11-21 02:00"), 2 * H) == at("2026-11-23 11:00")
    assert OFFICE.working_ms(at("2026-11-18 08:00"), at("2026-11-18 09:45")) == 45 * 60_000
    assert OFFICE.working_ms(at("2026-11-18 19:00"), at("2026-11-18 23:00")) == 0
    assert OFFICE.working_ms(at("2026-11-18 12:00"), at("2026-11-18 11:00")) == 0               # backwards: nothing


def test_make_up_workdays_and_split_shifts() -> None:
    # China's 2026 National Day: 1–7 October off; Sunday 27 September and Saturday 10 October worked (调休).
    national_day = BusinessHours.parse("Asia/Shanghai", ["mon-fri 09:00-12:00", "mon-fri 13:00-18:00"],
                                       holidays=[dt.date(2026, 10, d) for d in range(1, 8)],
                                       workdays=[dt.date(2026, 9, 27), dt.date(2026, 10, 10)])
    assert national_day.working_ms(at("2026-09-26 00:00"), at("2026-09-28 00:00")) == 8 * H     # Sat off, Sun worked (lunch off)
    # Wednesday 30 September 17:00 → Friday 9 October 09:30: 1 h + Thursday 8th 8 h + 0.5 h
    assert national_day.working_ms(at("2026-09-30 17:00"), at("2026-10-09 09:30")) == int(9.5 * H)
    assert national_day.deadline(at("2026-10-09 17:30"), 2 * H) == at("2026-10-10 10:30")        # the worked Saturday


def test_daylight_saving_day_has_23_hours() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    always_open = BusinessHours.parse("Europe/Berlin", ["mon-sun 00:00-24:00"])
    # Clocks went forward on Sunday 29 March 2026, 02:00 → 03:00.
    assert always_open.working_ms(at("2026-03-28 12:00", berlin), at("2026-03-29 12:00", berlin)) == 23 * H
    assert Always().working_ms(at("2026-03-28 12:00", berlin), at("2026-03-29 12:00", berlin)) == 23 * H
    assert Always().deadline(1000, 2 * H) == 1000 + 2 * H


def test_ranges_are_checked() -> None:
    assert parse_hours("fri-mon 08:00-20:00") == ((4, 5, 6, 0), (480, 1200))
    assert parse_hours("sat 09:00-12:00") == ((5,), (540, 720))
    with pytest.raises(ValueError, match="not like"):
        parse_hours("weekdays 9-6")
    with pytest.raises(ValueError, match="'fry' is not a day"):
        parse_hours("mon-fry 09:00-18:00")
    with pytest.raises(ValueError, match="ends before it starts"):
        parse_hours("mon 18:00-09:00")
    with pytest.raises(ValueError, match="no working time in 800 days"):
        BusinessHours.parse("UTC", ["mon 09:00-10:00"], holidays=[dt.date(2026, 1, 5) + dt.timedelta(weeks=w) for w in range(200)]
                            ).deadline(at("2026-01-01 00:00"), H)
