"""Contract time: 7×24, or business hours in a time zone with holidays and make-up working days.

A business calendar is a set of weekly ranges (`mon-fri 09:00-18:00`,
`sat 09:00-12:00`), minus holidays, plus make-up working days (调休: a
Saturday or Sunday worked in exchange for a holiday, with Monday's hours).
Ranges are wall-clock times in the calendar's zone, so a clock started on
Friday 17:00 in Shanghai counts one hour on Friday and resumes on Monday
09:00, whatever UTC says; days are walked one by one, so a DST change falls
where it belongs.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^\s*([a-z]{3})(?:\s*-\s*([a-z]{3}))?\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
DAY_MS = 86_400_000

Minutes = tuple[int, int]   # [start, end) minutes after local midnight


def parse_hours(text: str) -> tuple[tuple[int, ...], Minutes]:
    """`mon-fri 09:00-18:00` → ((0, 1, 2, 3, 4), (540, 1080)); ValueError says what is wrong."""
    match = _RANGE.match(text.lower())
    if not match:
        raise ValueError(f"{text!r} is not like 'mon-fri 09:00-18:00'")
    first, last, h1, m1, h2, m2 = match.groups()
    for day in (first, last):
        if day is not None and day not in DAYS:
            raise ValueError(f"{text!r}: {day!r} is not a day (mon, tue, wed, thu, fri, sat, sun)")
    a, b = DAYS.index(first), DAYS.index(last or first)
    days = tuple(range(a, b + 1)) if a <= b else (*range(a, 7), *range(0, b + 1))
    start, end = int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)
    if int(m1) > 59 or int(m2) > 59 or start >= 24 * 60 or end > 24 * 60:
        raise ValueError(f"{text!r}: times run from 00:00 to 24:00")
    if end <= start:
        raise ValueError(f"{text!r}: the range ends before it starts (a night shift is two ranges: "
                         "'mon-fri 22:00-24:00' and 'tue-sat 00:00-06:00')")
    return days, (start, end)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a time zone (e.g. Asia/Shanghai, UTC)") from None


class Always:
    """7×24: every millisecond counts."""

    name = "24x7"

    def working_ms(self, start_ms: int, end_ms: int) -> int:
        return max(0, end_ms - start_ms)

    def deadline(self, start_ms: int, work_ms: int) -> int:
        return start_ms + work_ms


@dataclass(frozen=True)
class BusinessHours:
    tz: ZoneInfo
    week: Mapping[int, tuple[Minutes, ...]]            # weekday (0 = Monday) → ranges
    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()         # make-up working days, with Monday's hours
    name: str = field(default="business hours")

    @classmethod
    def parse(cls, timezone: str, hours: Sequence[str], holidays: Iterable[dt.date] = (),
              workdays: Iterable[dt.date] = ()) -> BusinessHours:
        week: dict[int, list[Minutes]] = {}
        for text in hours:
            days, minutes = parse_hours(text)
            for day in days:
                week.setdefault(day, []).append(minutes)
        merged = {day: _merge(ranges) for day, ranges in week.items()}
        if not merged:
            raise ValueError("business hours need at least one range, e.g. 'mon-fri 09:00-18:00'")
        return cls(zone(timezone), merged, frozenset(holidays), frozenset(workdays),
                   f"business hours ({'; '.join(hours)}, {timezone})")

    def _ranges(self, day: dt.date) -> tuple[Minutes, ...]:
        if day in self.holidays:
            return ()
        if day in self.workdays:
            return self.week.get(0, ())
        return self.week.get(day.weekday(), ())

    def _spans(self, start_ms: int, end_ms: int | None) -> Iterable[tuple[int, int]]:
        """Working spans in UTC ms from the local day of `start_ms` on, clipped to [start, end)."""
        day = dt.datetime.fromtimestamp(start_ms / 1000, self.tz).date()
        empty_days = 0
        while end_ms is None or _ms(day, 0, self.tz) < end_ms:
            ranges = self._ranges(day)
            empty_days = 0 if ranges else empty_days + 1
            if empty_days > 800:   # no working day in over two years: holidays cover everything
                raise ValueError(f"{self.name}: no working time in 800 days from {day}")
            for a, b in ranges:
                lo, hi = max(_ms(day, a, self.tz), start_ms), _ms(day, b, self.tz)
                if end_ms is not None:
                    hi = min(hi, end_ms)
                if hi > lo:
                    yield lo, hi
            day += dt.timedelta(days=1)

    def working_ms(self, start_ms: int, end_ms: int) -> int:
        if end_ms <= start_ms:
            return 0
        return sum(hi - lo for lo, hi in self._spans(start_ms, end_ms))

    def deadline(self, start_ms: int, work_ms: int) -> int:
        """The UTC ms at which `work_ms` of working time has passed since `start_ms`."""
        left = work_ms
        for lo, hi in self._spans(start_ms, None):
            if hi - lo >= left:
                return lo + left
            left -= hi - lo
        raise AssertionError("unreachable: _spans is endless without an end")


Calendar = Always | BusinessHours


def _ms(day: dt.date, minutes: int, tz: ZoneInfo) -> int:
    local = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minutes)
    return int(local.replace(tzinfo=tz).timestamp() * 1000)


def _merge(ranges: list[Minutes]) -> tuple[Minutes, ...]:
    merged: list[list[int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((a, b) for a, b in merged)
