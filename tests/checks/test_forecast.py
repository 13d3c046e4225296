"""checks/rules.py `Forecast` and the filesystem_full_forecast check: a trend over hourly means."""

from __future__ import annotations

import math
import random

import checks
from checks.rules import Forecast, Transition

HOUR = 3_600_000
DAY = 24 * HOUR
CHECK = checks.library()["filesystem_full_forecast"]


def _forecast():  # type: ignore[no-untyped-def]
    return CHECK.rule.evaluator(CHECK.thresholds)


def _hours(start_percent: float, per_day: float, hours: int, first_hour: int = 0) -> list[tuple[int, float]]:
    return [((first_hour + h) * HOUR, start_percent + per_day * (first_hour + h) / 24) for h in range(hours)]


def _transitions(evaluator, hours: list[tuple[int, float]]) -> list[Transition]:  # type: ignore[no-untyped-def]
    return [t for ts, v in hours if (t := evaluator.feed(ts, v)) is not None]


def test_the_check_reads_hourly_disk_usage_per_path() -> None:
    assert isinstance(CHECK.rule, Forecast)
    assert CHECK.applies.metric == "disk_used_percent" and CHECK.applies.instance == ("path",)


def test_a_disk_filling_up_fires_once_it_is_a_week_from_full() -> None:
    disk = _forecast()
    # 2 % a day from 70 %: full after 15 days, so a week before that is day 8.
    fired = _transitions(disk, _hours(70.0, 2.0, 10 * 24))
    assert len(fired) == 1 and fired[0].kind == "fire"
    assert 8 * DAY - HOUR <= fired[0].at_ms <= 8 * DAY
    assert math.isclose(fired[0].value, 7.0, abs_tol=0.05) and fired[0].threshold == 100.0


def test_nothing_is_said_before_a_day_of_history() -> None:
    disk = _forecast()
    steep = _hours(90.0, 5.0, 24)           # full in 2 days, but only 23 hours seen
    assert _transitions(disk, steep) == []
    assert [t.kind for t in _transitions(disk, [(24 * HOUR, 95.1)])] == ["fire"]


def test_a_flat_or_shrinking_disk_never_fires() -> None:
    noisy = random.Random(7)
    flat = _forecast()
    assert _transitions(flat, [(h * HOUR, 85.0 + noisy.uniform(-2, 2)) for h in range(14 * 24)]) == []
    shrinking = _forecast()
    assert _transitions(shrinking, _hours(95.0, -1.0, 5 * 24)) == []


def test_a_daily_cycle_of_backups_and_cleanup_is_not_a_trend() -> None:
    disk = _forecast()
    cycle = [(h * HOUR, 80.0 + (10.0 if h % 24 < 6 else 0.0)) for h in range(14 * 24)]   # +10 % from 00:00 to 06:00
    assert _transitions(disk, cycle) == []


def test_a_full_disk_fires_with_zero_days_left() -> None:
    disk = _forecast()
    fired = _transitions(disk, [(h * HOUR, 100.0) for h in range(30)])
    assert [(t.kind, t.value) for t in fired] == [("fire", 0.0)]


def test_it_resolves_after_a_cleanup_and_not_while_the_trend_is_merely_slower() -> None:
    disk = _forecast()
    _transitions(disk, _hours(70.0, 2.0, 10 * 24))   # firing since day 8
    assert disk.firing
    # Growth slows to 1 %/day at ~90 %: 10 days left, inside the 14-day recovery horizon: still the same incident.
    slower = [((240 + h) * HOUR, 90.0 + h / 24) for h in range(3 * 24)]
    assert _transitions(disk, slower) == []
    # A cleanup to 40 %: the three-day line now points down.
    cleaned = _transitions(disk, [((312 + h) * HOUR, 40.0) for h in range(3 * 24)])
    assert [t.kind for t in cleaned] == ["resolve"] and not disk.firing


def test_old_growth_beyond_the_lookback_is_forgotten() -> None:
    disk = _forecast()
    grew_then_stopped = _hours(50.0, 10.0, 4 * 24) + [((96 + h) * HOUR, 90.0) for h in range(4 * 24)]
    kinds = [t.kind for t in _transitions(disk, grew_then_stopped)]
    assert kinds == ["fire", "resolve"]      # fired while it grew, resolved once the growth left the 3-day window


def test_hours_already_seen_are_ignored_and_gaps_are_fine() -> None:
    disk = _forecast()
    with_gap = [(h * HOUR, 60.0 + h * 0.2) for h in range(48) if not 10 <= h < 30]   # an agent outage of 20 hours
    _transitions(disk, with_gap)
    assert disk.late_points == 0
    assert disk.feed(47 * HOUR, 99.0) is None and disk.feed(20 * HOUR, 99.0) is None
    assert disk.late_points == 2
    assert disk.snapshot()["hours"] == 28
    assert math.isclose(disk.eta_ms() / HOUR, (100.0 - (60.0 + 47 * 0.2)) / 0.2, rel_tol=1e-9)
