"""Periods in the customer's zone; the whole-period forecast replay gives what the live Forecast rule gives."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

import checks
from collector.inspections import forecast, period

HOUR = 3_600_000


def test_periods_begin_at_local_midnight() -> None:
    november = period.parse("2026-11", "Asia/Shanghai", 0)
    assert (november.label, november.start_ms, november.end_ms, november.hours) == ("2026-11", 1_793_462_400_000, 1_796_054_400_000, 720)
    assert period.parse("2026-11", "UTC", 0).start_ms == november.start_ms + 8 * HOUR
    week = period.parse("2026-W48", "Asia/Shanghai", 0)           # Monday 23 November 2026
    assert (week.start_ms, week.hours) == (1_795_363_200_000, 168)
    day = period.parse("2026-11-03", "UTC", 0)
    assert day.hours == 24 and day.compact() == "20261103"
    span = period.parse("2026-11-01..2026-11-15", "UTC", 0)
    assert span.hours == 15 * 24
    last = period.parse("last-7d", "UTC", 10 * 86_400_000)
    assert (last.start_ms, last.end_ms) == (3 * 86_400_000, 10 * 86_400_000)


@pytest.mark.parametrize("text", ["2026-13", "11/2026", "2026-11-15..2026-11-01", "last-x"])
def test_bad_periods_say_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match="period"):
        period.parse(text, "UTC", 0)


def test_the_previous_complete_period_before_a_due_time() -> None:
    due = period.parse("2026-12-01", "Asia/Shanghai", 0).start_ms + 8 * HOUR       # 1 December, 08:00 Shanghai
    assert period.previous("month", due, "Asia/Shanghai").label == "2026-11"
    assert period.previous("day", due, "Asia/Shanghai").label == "2026-11-30"
    assert period.previous("week", due, "Asia/Shanghai").label == "2026-W48"        # a Tuesday: the week before
    assert period.previous("month", period.parse("2027-01-01", "UTC", 0).start_ms, "UTC").label == "2026-12"


def test_the_replay_fires_and_resolves_like_the_live_rule() -> None:
    check = checks.library()["filesystem_full_forecast"]
    rnd = random.Random(7)
    for _ in range(25):
        n = rnd.randint(30, 400)
        hours = np.arange(n, dtype=np.int64) * HOUR + 1_790_000_000_000
        slope, base = rnd.uniform(-0.2, 0.5), rnd.uniform(20, 95)
        values = np.array([base + slope * i + rnd.gauss(0, 2) for i in range(n)])
        live = check.rule.evaluator(check.thresholds)
        transitions = [t for t in (live.feed(int(h), float(v)) for h, v in zip(hours, values)) if t is not None]
        replay = forecast.replay(hours, values, check.thresholds)
        assert [(t.at_ms, t.kind) for t in transitions] == sorted(
            [(at, "fire") for at, _ in replay.fires] + [(at, "resolve") for at, _ in replay.resolves])
        for t, (_, days) in zip([t for t in transitions if t.kind == "fire"], replay.fires):
            assert math.isclose(t.value, days, rel_tol=1e-6, abs_tol=1e-9)
        assert live.firing == replay.firing


def test_a_line_through_the_period_meets_its_limit() -> None:
    hours = np.arange(48, dtype=np.int64) * HOUR
    line = forecast.fit(hours, 50 + 0.5 * np.arange(48), 90.0)
    assert line is not None and line.slope_per_hour == pytest.approx(0.5) and line.now == pytest.approx(73.5)
    assert line.eta_ms == pytest.approx((90 - 73.5) / 0.5 * HOUR)
    assert forecast.fit(hours, np.full(48, 40.0), 90.0).eta_ms == math.inf
    assert forecast.fit(hours[:1], np.array([1.0]), 90.0) is None
