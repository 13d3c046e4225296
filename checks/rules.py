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
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

Thresholds = Mapping[str, float]


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
        if ts_ms <= self.last_ms:
            self.late_points += 1
            return None
        self.last_ms = ts_ms
        previous, self._previous = self._previous, value
        if previous is not None and value < previous:
            self.firing, self._fired_at = True, ts_ms
            return Transition("fire", ts_ms, value, previous)
        return self.tick(ts_ms)

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

    def evaluator(self, thresholds: Thresholds) -> _Drop:
        return _Drop(thresholds[self.hold])


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

    def evaluator(self, thresholds: Thresholds) -> _Absence:
        return _Absence(thresholds[self.after])
