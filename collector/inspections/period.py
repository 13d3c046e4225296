"""The period an inspection covers: calendar months, weeks and days in the customer's time zone.

A period is [start, end) in UTC milliseconds, with the label people use
("2026-11", "2026-W47", "2026-11-03"). Months and days begin at local
midnight, so November in Asia/Shanghai starts at 2026-10-31 16:00 UTC: an
inspection of "November" for a Shanghai customer is the customer's
November, not UTC's. A scheduled run covers the last complete period before
its due time (`previous`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from agent.configfile import parse_duration


@dataclass(frozen=True, slots=True)
class Period:
    label: str
    start_ms: int
    end_ms: int          # exclusive
    timezone: str

    @property
    def hours(self) -> int:
        return (self.end_ms - self.start_ms + 3_599_999) // 3_600_000

    def compact(self) -> str:
        """For report numbers and file names: 202611, 2026W47, 20261103 (a `last-…` period: the day it starts)."""
        if self.label.startswith("last-"):
            return dt.datetime.fromtimestamp(self.start_ms / 1000, ZoneInfo(self.timezone)).strftime("%Y%m%d")
        return re.sub(r"[^0-9A-Za-z]", "", self.label.split("..")[0])[:12]


def _ms(day: dt.date, tz: ZoneInfo) -> int:
    return int(dt.datetime.combine(day, dt.time(), tzinfo=tz).timestamp() * 1000)


def _month(year: int, month: int, tz: ZoneInfo, tz_name: str) -> Period:
    if not 1 <= month <= 12:
        raise ValueError(f"no month {month}")
    first, after = dt.date(year, month, 1), dt.date(year + month // 12, month % 12 + 1, 1)
    return Period(f"{year:04d}-{month:02d}", _ms(first, tz), _ms(after, tz), tz_name)


def _week(year: int, week: int, tz: ZoneInfo, tz_name: str) -> Period:
    monday = dt.date.fromisocalendar(year, week, 1)
    return Period(f"{year:04d}-W{week:02d}", _ms(monday, tz), _ms(monday + dt.timedelta(days=7), tz), tz_name)


def _day(day: dt.date, tz: ZoneInfo, tz_name: str) -> Period:
    return Period(day.isoformat(), _ms(day, tz), _ms(day + dt.timedelta(days=1), tz), tz_name)


def parse(text: str, tz_name: str, now_ms: int) -> Period:
    """`2026-11`, `2026-W47`, `2026-11-03`, `2026-11-01..2026-11-15` (days inclusive), `last-24h`, `last-7d`."""
    tz = ZoneInfo(tz_name)
    value = text.strip()
    try:
        if match := re.fullmatch(r"(\d{4})-(\d{2})", value):
            return _month(int(match.group(1)), int(match.group(2)), tz, tz_name)
        if match := re.fullmatch(r"(\d{4})-[Ww](\d{1,2})", value):
            return _week(int(match.group(1)), int(match.group(2)), tz, tz_name)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return _day(dt.date.fromisoformat(value), tz, tz_name)
        if match := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", value):
            first, last = dt.date.fromisoformat(match.group(1)), dt.date.fromisoformat(match.group(2))
            if last < first:
                raise ValueError("the range ends before it starts")
            return Period(value, _ms(first, tz), _ms(last + dt.timedelta(days=1), tz), tz_name)
        if match := re.fullmatch(r"last-(\S+)", value):
            length_ms = int(parse_duration(match.group(1)) * 1000)
            if length_ms <= 0:
                raise ValueError("the length must be positive")
            return Period(value, now_ms - length_ms, now_ms, tz_name)
    except ValueError as exc:
        raise ValueError(f"period {text!r}: {exc}") from None
    raise ValueError(f"period {text!r}: use 2026-11, 2026-W47, 2026-11-03, 2026-11-01..2026-11-15 or last-7d")


def previous(kind: str, at_ms: int, tz_name: str) -> Period:
    """The last complete month, week or day before `at_ms`, in `tz_name`."""
    tz = ZoneInfo(tz_name)
    today = dt.datetime.fromtimestamp(at_ms / 1000, tz).date()
    if kind == "month":
        last_month = today.replace(day=1) - dt.timedelta(days=1)
        return _month(last_month.year, last_month.month, tz, tz_name)
    if kind == "week":
        year, week, _ = (today - dt.timedelta(days=today.isoweekday() - 1 + 7)).isocalendar()
        return _week(year, week, tz, tz_name)
    if kind == "day":
        return _day(today - dt.timedelta(days=1), tz, tz_name)
    raise ValueError(f"unknown period kind {kind!r}: month, week or day")
