"""SLA compliance of one customer over a period: what `vigil sla` prints.

An incident counts in the period its clocks started in (the month in the
customer's calendar zone, or UTC for a 7×24 calendar). For each clock:
met within target, missed (stopped late, or still running past target),
still running inside target (not judged yet); the percentage is met /
(met + missed). Mean and p90 are over the stopped clocks, in contract time.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, Row, select

from collector.sla.calendar import BusinessHours, zone
from collector.sla.clocks import Clock, clocks
from collector.store import schema

if TYPE_CHECKING:
    from collector.config import SlaPolicy


@dataclass
class ClockSummary:
    name: str
    target_ms: int
    met: int = 0
    missed: int = 0
    running: int = 0
    stopped_ms: list[int] = field(default_factory=list)

    @property
    def percent(self) -> float | None:
        judged = self.met + self.missed
        return 100.0 * self.met / judged if judged else None

    @property
    def mean_ms(self) -> float | None:
        return sum(self.stopped_ms) / len(self.stopped_ms) if self.stopped_ms else None

    @property
    def p90_ms(self) -> int | None:
        """Nearest rank: the smallest time that 90 % of the stopped clocks are within."""
        if not self.stopped_ms:
            return None
        ordered = sorted(self.stopped_ms)
        return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]

    def add(self, clock: Clock) -> None:
        if clock.running:
            if clock.state == "breached":
                self.missed += 1
            else:
                self.running += 1
            return
        self.stopped_ms.append(clock.elapsed_ms)
        if clock.state == "met":
            self.met += 1
        else:
            self.missed += 1


@dataclass
class Compliance:
    customer: str
    period: str
    start_ms: int
    end_ms: int
    tz: str
    calendar: str
    incidents: list[tuple[Row, Clock, Clock]]
    response: ClockSummary
    plan: ClockSummary
    not_covered: int      # incidents of the period the policy does not apply to (severity, folded)


def period_bounds(period: str, tz: ZoneInfo) -> tuple[int, int]:
    """[start, end) in UTC ms of `2026-11`, `2026-Q4`, `2026` or `2026-11-01..2026-11-15` (days inclusive)."""
    text = period.strip()
    if match := re.fullmatch(r"(\d{4})-(\d{2})", text):
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            raise ValueError(f"{period!r}: no month {month}")
        first, after = dt.date(year, month, 1), dt.date(year + month // 12, month % 12 + 1, 1)
    elif match := re.fullmatch(r"(\d{4})-[Qq]([1-4])", text):
        year, quarter = int(match.group(1)), int(match.group(2))
        first = dt.date(year, 3 * quarter - 2, 1)
        after = dt.date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    elif match := re.fullmatch(r"(\d{4})", text):
        first, after = dt.date(int(text), 1, 1), dt.date(int(text) + 1, 1, 1)
    elif match := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", text):
        try:
            first = dt.date.fromisoformat(match.group(1))
            after = dt.date.fromisoformat(match.group(2)) + dt.timedelta(days=1)
        except ValueError as exc:
            raise ValueError(f"{period!r}: {exc}") from None
        if after <= first:
            raise ValueError(f"{period!r}: the range ends before it starts")
    else:
        raise ValueError(f"{period!r} is not a period: use 2026-11, 2026-Q4, 2026 or 2026-11-01..2026-11-15")

    def ms(day: dt.date) -> int:
        return int(dt.datetime.combine(day, dt.time(), tzinfo=tz).timestamp() * 1000)

    return ms(first), ms(after)


def compliance(engine: Engine, customer: str, policy: SlaPolicy, period: str, now_ms: int, tz: str | None = None) -> Compliance:
    calendar = policy.build_calendar()
    zone_name = tz or (calendar.tz.key if isinstance(calendar, BusinessHours) else "UTC")
    start_ms, end_ms = period_bounds(period, zone(zone_name))
    i, t = schema.incidents, schema.incident_timeline
    with engine.connect() as connection:
        rows = connection.execute(select(i).where(i.c.customer == customer, i.c.seen_ms >= start_ms, i.c.seen_ms < end_ms)
                                  .order_by(i.c.seen_ms, i.c.incident_id)).all()
        ids = [r.incident_id for r in rows]
        entries: dict[int, list[Row]] = {}
        for chunk in range(0, len(ids), 500):
            for entry in connection.execute(select(t).where(t.c.incident_id.in_(ids[chunk:chunk + 500]))):
                entries.setdefault(entry.incident_id, []).append(entry)
    result = Compliance(customer, period, start_ms, end_ms, zone_name, calendar.name, [],
                        ClockSummary("response", int(policy.response * 1000)), ClockSummary("plan", int(policy.plan * 1000)), 0)
    for row in rows:
        found = clocks(row, entries.get(row.incident_id, []), policy, now_ms, calendar)
        if found is None:
            result.not_covered += 1
            continue
        response, plan = found
        result.incidents.append((row, response, plan))
        result.response.add(response)
        result.plan.add(plan)
    return result
