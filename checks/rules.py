"""How a check's points become "firing" and "recovered": rules, and the state machine each instance runs.

Every rule is evaluated as points arrive, one instance (device × check ×
interface/path…) at a time, in timestamp order; nothing re-reads storage.
The state machine is the same for all threshold-like rules:

    ok ──bad──▶ pending ──bad for `for`──▶ FIRING ──good──▶ recovering ──good for `recover_for`──▶ ok
                   └──not bad──▶ ok                            └──not good──▶ FIRING

`bad` and `good` are separate tests (hysteresis): CPU fires above 90 % and
recovers only below 80 %, so a value hovering at 89–91 % cannot open and
close incidents every minute. A fire and a resolve are `Transition`s with
the time of the point that caused them, which for replayed data is in the
past: the incident then says when it happened, not when it was seen.

A point older than the instance's newest is late (a replay that arrived
after live data). The state machine ignores it, because time does not run
backwards, and counts it in `late_points` for the engine to report.

Two rules are not fed raw points. `Forecast` is fed hourly rollups (the
mean of each complete hour): a trend over days needs no finer grain, and a
regression per raw point would be wasted work. `OnEvent` is fed events
(SNMP traps) through `feed_event`. Every other rule is fed raw points.

Counters reach the collector as per-second rates (the agent handles wraps
and resets), so "errors rising" is `Above` on a rate. `Rise` is for the few
values that are running totals, such as the agent's dropped-points count.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

Thresholds = Mapping[str, float]
NAN = float("nan")
HOUR_MS = 3_600_000
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Transition:
    kind: Literal["fire", "resolve"]
    at_ms: int          # the time of the point (or tick) that caused it
    value: float        # the value then (NaN for absence)
    threshold: float    # the limit it crossed (NaN when there is none)


class Evaluator(Protocol):
    firing: bool
    late_points: int

    def feed(self, ts_ms: int, value: float) -> Transition | None: ...
    def tick(self, now_ms: int) -> Transition | None: ...
    def snapshot(self) -> dict[str, float]: ...


class Rule(Protocol):
    def threshold_names(self) -> tuple[str, ...]: ...
    def duration_names(self) -> tuple[str, ...]: ...     # those of threshold_names() that are seconds
    def evaluator(self, thresholds: Thresholds) -> Evaluator: ...


# ---------------------------------------------------------------- the state machine

OK, PENDING, FIRING, RECOVERING = 0, 1, 2, 3


class Hysteresis:
    """The state machine above, for any pair of tests `bad(value)` and `good(value)`."""

    __slots__ = ("_bad", "_good", "_for_ms", "_recover_ms", "_limit", "state", "since_ms", "last_ms",
                 "late_points", "fired_value")

    def __init__(self, bad: Callable[[float], bool], good: Callable[[float], bool],
                 for_s: float, recover_for_s: float, limit: float) -> None:
        self._bad, self._good = bad, good
        self._for_ms, self._recover_ms = int(for_s * 1000), int(recover_for_s * 1000)
        self._limit = limit
        self.state = OK
        self.since_ms = 0
        self.last_ms = -1
        self.late_points = 0
        self.fired_value = float("nan")

    @property
    def firing(self) -> bool:
        return self.state in (FIRING, RECOVERING)

    def feed(self, ts_ms: int, value: float) -> Transition | None:
        if ts_ms <= self.last_ms:
            self.late_points += 1
            return None
        self.last_ms = ts_ms
        state = self.state
        if state == OK:
            if self._bad(value):
                self.state, self.since_ms = PENDING, ts_ms
                return self._pending(ts_ms, value)
            return None
        if state == PENDING:
            if not self._bad(value):
                self.state = OK
                return None
            return self._pending(ts_ms, value)
        if state == FIRING:
            if self._good(value):
                self.state, self.since_ms = RECOVERING, ts_ms
                return self._recovering(ts_ms, value)
            return None
        if not self._good(value):  # RECOVERING, and the value went bad again: still the same incident
            self.state = FIRING
            return None
        return self._recovering(ts_ms, value)

    def feed_good(self, ts_ms: int) -> Transition | None:
        """A point that counts as good whatever its value: the engine's call while `Applies.only_if` does not hold."""
        if ts_ms <= self.last_ms:
            self.late_points += 1
            return None
        self.last_ms = ts_ms
        state = self.state
        if state == PENDING:
            self.state = OK
        elif state == FIRING:
            self.state, self.since_ms = RECOVERING, ts_ms
            return self._recovering(ts_ms, NAN)
        elif state == RECOVERING:
            return self._recovering(ts_ms, NAN)
        return None

    def _pending(self, ts_ms: int, value: float) -> Transition | None:
        if ts_ms - self.since_ms >= self._for_ms:
            self.state, self.since_ms, self.fired_value = FIRING, ts_ms, value
            return Transition("fire", ts_ms, value, self._limit)
        return None

    def _recovering(self, ts_ms: int, value: float) -> Transition | None:
        if ts_ms - self.since_ms >= self._recover_ms:
            self.state, self.since_ms = OK, ts_ms
            return Transition("resolve", ts_ms, value, self._limit)
        return None

    def tick(self, now_ms: int) -> Transition | None:
        return None

    def snapshot(self) -> dict[str, float]:
        return {"state": self.state, "since_ms": self.since_ms, "last_ms": self.last_ms}

    def restore(self, saved: Mapping[str, float]) -> None:
        self.state, self.since_ms, self.last_ms = int(saved["state"]), int(saved["since_ms"]), int(saved["last_ms"])


# ---------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class Above:
    """Fires when the value stays above `threshold` for `for_`; recovers below `recover` for `recover_for`."""

    threshold: str = "threshold"
    recover: str | None = "recover"          # None: the same as threshold
    for_: str | None = "for"                 # None: at once
    recover_for: str | None = "recover_for"

    def threshold_names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.threshold, self.recover, self.for_, self.recover_for) if n)

    def duration_names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.for_, self.recover_for) if n)

    def evaluator(self, thresholds: Thresholds) -> Hysteresis:
        limit = thresholds[self.threshold]
        recover = thresholds[self.recover] if self.recover else limit
        return Hysteresis(
            lambda v: v > limit, lambda v: v <= recover,
            thresholds[self.for_] if self.for_ else 0.0,
            thresholds[self.recover_for] if self.recover_for else 0.0, limit,
        )


@dataclass(frozen=True, slots=True)
class Below:
    """Fires when the value stays below `threshold` (battery charge, free space); recovers above `recover`."""

    threshold: str = "threshold"
    recover: str | None = "recover"
    for_: str | None = "for"
    recover_for: str | None = "recover_for"

    def threshold_names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.threshold, self.recover, self.for_, self.recover_for) if n)

    def duration_names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.for_, self.recover_for) if n)

    def evaluator(self, thresholds: Thresholds) -> Hysteresis:
        limit = thresholds[self.threshold]
        recover = thresholds[self.recover] if self.recover else limit
        return Hysteresis(
            lambda v: v < limit, lambda v: v >= recover,
            thresholds[self.for_] if self.for_ else 0.0,
            thresholds[self.recover_for] if self.recover_for else 0.0, limit,
        )


@dataclass(frozen=True, slots=True)
class State:
    """Fires while the value equals `bad` (a failed fan = 1, an interface down = 0) for `for_`."""

    bad: float
    for_: str | None = "for"
    recover_for: str | None = "recover_for"

    def threshold_names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.for_, self.recover_for) if n)

    def duration_names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.for_, self.recover_for) if n)

    def evaluator(self, thresholds: Thresholds) -> Hysteresis:
        bad = self.bad
        return Hysteresis(
            lambda v: v == bad, lambda v: v != bad,
            thresholds[self.for_] if self.for_ else 0.0,
            thresholds[self.recover_for] if self.recover_for else 0.0, bad,
        )


class _Drop:
    """Fires when a value goes down (uptime after a reboot); resolves by itself `hold` later."""

    __slots__ = ("_hold_ms", "_previous", "last_ms", "late_points", "_fired_at", "firing")

    def __init__(self, hold_s: float) -> None:
        self._hold_ms = int(hold_s * 1000)
        self._previous: float | None = None
        self.last_ms = -1
        self.late_points = 0
        self._fired_at = 0
        self.firing = False

    def feed(self, ts_ms: int, value: float) -> Transition | None:
        last_ms = self.last_ms
        if ts_ms <= last_ms:
            self.late_points += 1
            return None
        self.last_ms = ts_ms
        previous, self._previous = self._previous, value
        if previous is not None and self._dropped(previous, value, (ts_ms - last_ms) / 1000):
            self.firing, self._fired_at = True, ts_ms
            return Transition("fire", ts_ms, value, previous)
        return self.tick(ts_ms)

    def _dropped(self, previous: float, value: float, elapsed_s: float) -> bool:
        return value < previous

    def tick(self, now_ms: int) -> Transition | None:
        if self.firing and now_ms - self._fired_at >= self._hold_ms:
            self.firing = False
            return Transition("resolve", now_ms, self._previous if self._previous is not None else float("nan"), float("nan"))
        return None

    def snapshot(self) -> dict[str, float]:
        return {"previous": self._previous if self._previous is not None else float("nan"), "last_ms": self.last_ms}


@dataclass(frozen=True, slots=True)
class Drop:
    hold: str = "hold"

    def threshold_names(self) -> tuple[str, ...]:
        return (self.hold,)

    def duration_names(self) -> tuple[str, ...]:
        return (self.hold,)

    def evaluator(self, thresholds: Thresholds) -> _Drop:
        return _Drop(thresholds[self.hold])


TIMETICKS_WRAP_S = 2**32 / 100   # SNMP TimeTicks (sysUpTime, hrSystemUptime) wrap after 497 days
SLACK_S = 30.0                   # poll timing jitter between an uptime's clock and the points' timestamps


class _Restart(_Drop):
    """A `_Drop` for uptimes: it fires when the device booted since the previous point.

    Booted since: the new uptime is shorter than the time since the previous
    point, and shorter than the old uptime plus that time (a device seen
    10 s after its boot is at 70 s a minute later, not restarted). A wall
    clock stepped back by NTP lowers psutil's uptime (now − boot time) by
    seconds, not to near zero, so it is no restart; nor is a value where a
    TimeTicks wrap would land (previous + elapsed − 2³²/100 s): sysUpTime
    wraps after 497 days, and switches run longer than that.
    """

    __slots__ = ()

    def _dropped(self, previous: float, value: float, elapsed_s: float) -> bool:
        return (value <= elapsed_s + SLACK_S and value < previous + elapsed_s - SLACK_S
                and abs(previous + elapsed_s - TIMETICKS_WRAP_S - value) > SLACK_S)


@dataclass(frozen=True, slots=True)
class Restart:
    """Fires when an uptime shows a restart since the previous point; resolves by itself `hold` later."""

    hold: str = "hold"

    def threshold_names(self) -> tuple[str, ...]:
        return (self.hold,)

    def duration_names(self) -> tuple[str, ...]:
        return (self.hold,)

    def evaluator(self, thresholds: Thresholds) -> _Restart:
        return _Restart(thresholds[self.hold])


class _Absence:
    """Fires when no point has arrived for `after`; any point resolves it."""

    __slots__ = ("_after_ms", "last_ms", "late_points", "firing")

    def __init__(self, after_s: float) -> None:
        self._after_ms = int(after_s * 1000)
        self.last_ms = -1
        self.late_points = 0
        self.firing = False

    def feed(self, ts_ms: int, value: float) -> Transition | None:
        if ts_ms <= self.last_ms:
            self.late_points += 1
            return None
        self.last_ms = ts_ms
        if self.firing:
            self.firing = False
            return Transition("resolve", ts_ms, value, float("nan"))
        return None

    def tick(self, now_ms: int) -> Transition | None:
        if not self.firing and self.last_ms >= 0 and now_ms - self.last_ms > self._after_ms:
            self.firing = True
            return Transition("fire", self.last_ms + self._after_ms, float("nan"), self._after_ms / 1000)
        return None

    def snapshot(self) -> dict[str, float]:
        return {"last_ms": self.last_ms, "firing": float(self.firing)}


@dataclass(frozen=True, slots=True)
class Absent:
    """Fires when the series has been silent for `after` (device or site unreachable)."""

    after: str = "after"

    def threshold_names(self) -> tuple[str, ...]:
        return (self.after,)

    def duration_names(self) -> tuple[str, ...]:
        return (self.after,)

    def evaluator(self, thresholds: Thresholds) -> _Absence:
        return _Absence(thresholds[self.after])


class _Rise:
    """Fires when a running total goes up by more than `min_rise`; resolves by itself `hold` after the last rise.

    A total that went down was restarted (the agent restarted and counts
    from zero again), so its whole new value is the rise.
    """

    __slots__ = ("_min_rise", "_hold_ms", "_previous", "last_ms", "late_points", "_risen_at", "firing")

    def __init__(self, min_rise: float, hold_s: float) -> None:
        self._min_rise = min_rise
        self._hold_ms = int(hold_s * 1000)
        self._previous: float | None = None
        self.last_ms = -1
        self.late_points = 0
        self._risen_at = 0
        self.firing = False

    def feed(self, ts_ms: int, value: float) -> Transition | None:
        if ts_ms <= self.last_ms:
            self.late_points += 1
            return None
        self.last_ms = ts_ms
        previous, self._previous = self._previous, value
        if previous is not None:
            rise = value - previous if value >= previous else value
            if rise > self._min_rise:
                self._risen_at = ts_ms
                if not self.firing:
                    self.firing = True
                    return Transition("fire", ts_ms, rise, self._min_rise)
                return None
        return self.tick(ts_ms)

    def tick(self, now_ms: int) -> Transition | None:
        if self.firing and now_ms - self._risen_at >= self._hold_ms:
            self.firing = False
            return Transition("resolve", now_ms, NAN, self._min_rise)
        return None

    def snapshot(self) -> dict[str, float]:
        return {"previous": NAN if self._previous is None else self._previous, "last_ms": self.last_ms,
                "firing": float(self.firing)}


@dataclass(frozen=True, slots=True)
class Rise:
    """Fires when a running total (not a rate) grows by more than `threshold` between two points.

    The fire's value is the rise. The incident resolves `hold` after the
    last rise: a total cannot say "it stopped", only "it has not grown since".
    """

    threshold: str = "threshold"
    hold: str = "hold"

    def threshold_names(self) -> tuple[str, ...]:
        return (self.threshold, self.hold)

    def duration_names(self) -> tuple[str, ...]:
        return (self.hold,)

    def evaluator(self, thresholds: Thresholds) -> _Rise:
        return _Rise(thresholds[self.threshold], thresholds[self.hold])


# ---------------------------------------------------------------- forecast (fed hourly rollups)


class _Forecast:
    """Least-squares line through the last `lookback` of hourly values; fires when it meets the limit soon.

    Fires when the line reaches `limit` within `horizon` of the newest hour
    (or is past it), and resolves only once that is more than
    `recover_horizon` away: a slope that wobbles around the horizon would
    otherwise open and close an incident every hour. Nothing is judged until
    the values span `min_history`, so one busy afternoon on a new disk is
    not a trend. The fire's value is the days left (0 when already there).
    """

    __slots__ = ("_limit", "_horizon_ms", "_recover_ms", "_lookback_ms", "_min_ms", "_hours", "last_ms",
                 "late_points", "firing")

    def __init__(self, limit: float, horizon_s: float, recover_horizon_s: float, lookback_s: float,
                 min_history_s: float) -> None:
        self._limit = limit
        self._horizon_ms, self._recover_ms = horizon_s * 1000, recover_horizon_s * 1000
        self._lookback_ms, self._min_ms = lookback_s * 1000, min_history_s * 1000
        self._hours: deque[tuple[int, float]] = deque()
        self.last_ms = -1
        self.late_points = 0
        self.firing = False

    def feed(self, ts_ms: int, value: float) -> Transition | None:
        """One complete hour: its start (ms) and its mean. An hour not newer than the last one is ignored."""
        if ts_ms <= self.last_ms:
            self.late_points += 1
            return None
        self.last_ms = ts_ms
        hours = self._hours
        hours.append((ts_ms, value))
        while ts_ms - hours[0][0] >= self._lookback_ms:
            hours.popleft()
        if ts_ms - hours[0][0] < self._min_ms or len(hours) < 2:
            return None
        eta_ms = self.eta_ms()
        if not self.firing and eta_ms <= self._horizon_ms:
            self.firing = True
            return Transition("fire", ts_ms, eta_ms / DAY_MS, self._limit)
        if self.firing and eta_ms > self._recover_ms:
            self.firing = False
            return Transition("resolve", ts_ms, eta_ms / DAY_MS, self._limit)
        return None

    def eta_ms(self) -> float:
        """From the newest hour until the fitted line reaches the limit: 0 if it is there, inf if it never will."""
        hours, newest = self._hours, self._hours[-1][0]
        n = len(hours)
        xs = [(t - newest) / HOUR_MS for t, _ in hours]
        mean_x, mean_y = sum(xs) / n, sum(v for _, v in hours) / n
        sxx = sum((x - mean_x) ** 2 for x in xs)
        slope = sum((x - mean_x) * (v - mean_y) for x, (_, v) in zip(xs, hours)) / sxx   # per hour
        now = mean_y - slope * mean_x            # the line at the newest hour (x = 0)
        if now >= self._limit:
            return 0.0
        if slope <= 0:
            return math.inf
        return (self._limit - now) / slope * HOUR_MS

    def tick(self, now_ms: int) -> Transition | None:
        return None

    def snapshot(self) -> dict[str, float]:
        return {"last_ms": self.last_ms, "hours": len(self._hours), "firing": float(self.firing)}


@dataclass(frozen=True, slots=True)
class Forecast:
    """Fires when the trend of the last `lookback` says the value reaches `threshold` within `horizon`.

    The one rule fed from hourly rollups, not raw points: the engine feeds
    each instance the mean of every complete hour (`feed(hour_start_ms,
    mean)`), periodically and in order. A trend over days needs no finer
    grain, and this keeps the regression at one small sum per hour.
    """

    threshold: str = "threshold"
    horizon: str = "horizon"
    recover_horizon: str = "recover_horizon"
    lookback: str = "lookback"
    min_history: str = "min_history"

    def threshold_names(self) -> tuple[str, ...]:
        return (self.threshold, self.horizon, self.recover_horizon, self.lookback, self.min_history)

    def duration_names(self) -> tuple[str, ...]:
        return (self.horizon, self.recover_horizon, self.lookback, self.min_history)

    def evaluator(self, thresholds: Thresholds) -> _Forecast:
        return _Forecast(thresholds[self.threshold], thresholds[self.horizon], thresholds[self.recover_horizon],
                         thresholds[self.lookback], thresholds[self.min_history])


# ---------------------------------------------------------------- events (fed SNMP traps)


class _Events:
    """Fires on the first firing event, resolves on a clearing event or `resolve_after` past the last firing one."""

    __slots__ = ("_fires", "_clears", "_after_ms", "last_ms", "late_points", "_fired_ms", "firing")

    def __init__(self, fires: frozenset[str], clears: frozenset[str], resolve_after_s: float) -> None:
        self._fires, self._clears = fires, clears
        self._after_ms = int(resolve_after_s * 1000)
        self.last_ms = -1
        self.late_points = 0
        self._fired_ms = 0
        self.firing = False

    def feed_event(self, name: str, at_ms: int) -> Transition | None:
        if at_ms < self.last_ms:   # two traps may share a millisecond; only an older one is late
            self.late_points += 1
            return None
        self.last_ms = at_ms
        if name in self._fires:
            self._fired_ms = at_ms   # a repeated alarm keeps the incident open longer
            if not self.firing:
                self.firing = True
                return Transition("fire", at_ms, NAN, NAN)
        elif name in self._clears and self.firing:
            self.firing = False
            return Transition("resolve", at_ms, NAN, NAN)
        return None

    def feed(self, ts_ms: int, value: float) -> Transition | None:
        """An event rule reads no series; a point only says what time it is."""
        return self.tick(ts_ms)

    def tick(self, now_ms: int) -> Transition | None:
        if self.firing and self._after_ms and now_ms - self._fired_ms >= self._after_ms:
            self.firing = False
            return Transition("resolve", self._fired_ms + self._after_ms, NAN, NAN)
        return None

    def snapshot(self) -> dict[str, float]:
        return {"last_ms": self.last_ms, "fired_ms": self._fired_ms, "firing": float(self.firing)}


@dataclass(frozen=True, slots=True)
class OnEvent:
    """Fires on any of the `fires` events (SNMP trap names), resolves on any of `clears`.

    Traps travel over UDP and many devices send no clearing trap at all, so
    an incident also resolves `resolve_after` after the last firing event
    (0: only a clearing event resolves it). The engine routes an event to
    the checks whose `Applies.metric` is the event's source ("snmp_trap")
    and whose rule names it.
    """

    fires: tuple[str, ...]
    clears: tuple[str, ...] = ()
    resolve_after: str = "resolve_after"

    def threshold_names(self) -> tuple[str, ...]:
        return (self.resolve_after,)

    def duration_names(self) -> tuple[str, ...]:
        return (self.resolve_after,)

    def evaluator(self, thresholds: Thresholds) -> _Events:
        return _Events(frozenset(self.fires), frozenset(self.clears), thresholds[self.resolve_after])
