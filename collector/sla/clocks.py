"""The response and plan clocks of one incident, read from its timeline, in the customer's contract time.

Both clocks start when Vigil first saw the incident (`seen_ms`: the moment
the provider could know; for replayed data that is later than the fault
itself, and the contract cannot hold the provider to a fault nobody could
see). The response clock stops at the first `acknowledged` or `plan` step
(a plan acknowledges too); the plan clock at the first `plan`. An incident
that is resolved or closed without those stops both clocks there: a fault
that went away by itself, or was fixed at once, needs no further answer. A
re-open before that keeps the clock running from the original start.

A running clock is `on_track`, `at_risk` (at or past the first escalation
share under 100 %) or `breached`; a stopped one `met` or `breached`.
Incidents the policy does not cover (severity) and incidents folded under a
site incident have no clocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Row

from collector.sla.calendar import Calendar

if TYPE_CHECKING:
    from collector.config import SlaPolicy

ACTIVE = ("open", "acknowledged", "planned")
STOPS = {"response": ("acknowledged", "plan"), "plan": ("plan",)}


@dataclass(frozen=True, slots=True)
class Clock:
    name: str                 # "response" | "plan"
    target_ms: int            # contract time allowed
    started_ms: int           # UTC ms
    stopped_ms: int | None    # UTC ms; None while running
    stopped_by: str           # acknowledged | plan | resolved | closed | ""
    elapsed_ms: int           # contract time from start to stop (or to now)
    deadline_ms: int          # UTC ms when it breaches (or breached)
    state: str                # on_track | at_risk | breached (running); met | breached (stopped)

    @property
    def running(self) -> bool:
        return self.stopped_ms is None

    @property
    def share(self) -> float:
        return self.elapsed_ms / self.target_ms if self.target_ms else 0.0


def covered(incident: Row, policy: SlaPolicy) -> bool:
    return incident.severity in policy.severities and not getattr(incident, "parent_incident_id", 0)


def clocks(incident: Row, timeline: Sequence[Row], policy: SlaPolicy, now_ms: int,
           calendar: Calendar | None = None) -> tuple[Clock, Clock] | None:
    """(response, plan) for an incident the policy covers, else None."""
    if not covered(incident, policy):
        return None
    calendar = calendar or policy.build_calendar()
    at_risk = next((share for share in policy.escalate_at if share < 1.0), None)
    targets = {"response": int(policy.response * 1000), "plan": int(policy.plan * 1000)}
    start = incident.seen_ms
    entries = sorted(timeline, key=lambda t: (t.at_ms, t.entry_id))
    ended = _ended(incident, entries)
    found: list[Clock] = []
    for name in ("response", "plan"):
        stop = next((t for t in entries if t.kind in STOPS[name]), None)
        stopped_ms, stopped_by = (stop.at_ms, stop.kind) if stop is not None else (ended or (None, ""))
        target = targets[name]
        elapsed = calendar.working_ms(start, max(start, now_ms if stopped_ms is None else stopped_ms))
        if elapsed >= target:
            state = "breached"
        elif stopped_ms is not None:
            state = "met"
        elif at_risk is not None and elapsed >= at_risk * target:
            state = "at_risk"
        else:
            state = "on_track"
        found.append(Clock(name, target, start, stopped_ms, stopped_by, elapsed, calendar.deadline(start, target), state))
    return found[0], found[1]


def _ended(incident: Row, entries: Sequence[Row]) -> tuple[int, str] | None:
    """When a resolved or closed incident ended: its first resolve/close after the last re-open."""
    if incident.status in ACTIVE:
        return None
    last_reopen = max((t.at_ms for t in entries if t.kind == "reopened"), default=None)
    for t in entries:
        if t.kind in ("resolved", "closed") and (last_reopen is None or t.at_ms >= last_reopen):
            return t.at_ms, t.kind
    return None


def describe(clock: Clock) -> str:
    """`1h 30m of 2h (75 %), at risk` — for notices and the timeline."""
    return (f"{hours(clock.elapsed_ms)} of {hours(clock.target_ms)} ({clock.share:.0%}), "
            f"{clock.state.replace('_', ' ')}")


def hours(ms: int) -> str:
    minutes = round(ms / 60_000)
    h, m = divmod(minutes, 60)
    if h and m:
        return f"{h}h {m:02d}m"
    return f"{h}h" if h else f"{m}m"
