"""The escalation sweep: every running clock that reaches a share of its target notifies the next level, once.

Shares come from the customer's policy (`escalate_at`, default 75 % and
100 %): the first share reached goes to level 1 of the customer's
escalation chain, the second to level 2, and so on (the last level gets
the rest; no chain: the on-call engineers). Each is recorded as an incident
notice with the key `incident:{id}:{clock}_{at_risk|breached}:{level}`, so a
sweep that runs again, or on another replica, or after a restart, never
escalates twice; the notification service sends it. A clock that stopped
before a share was reached is never escalated for it, even if the sweep
was late. Escalations of a device in a maintenance window are recorded as
suppressed.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from sqlalchemy import Engine, Row, select

from collector.incidents import maintenance, notices
from collector.passes import Passes
from collector.sla.clocks import ACTIVE, Clock, clocks, hours
from collector.store import schema

if TYPE_CHECKING:
    from collector.config import CollectorConfig

log = logging.getLogger("vigil.collector.sla")


def escalation_kind(clock: str, share: float) -> str:
    return f"{clock}_{'at_risk' if share < 1.0 else 'breached'}"


class EscalationSweeper:
    def __init__(self, engine: Engine, config: CollectorConfig, wake: object = None) -> None:
        self.engine = engine
        self.config = config
        self._wake = wake            # called after new escalations were recorded (the notification service)
        self._passes = Passes("sla", self.run_once, config.notify.sla_sweep_interval)
        self.escalations = 0

    def run_once(self, now_ms: int | None = None) -> int:
        """Record the escalations due now; returns how many were recorded (suppressed ones included)."""
        now = int(time.time() * 1000) if now_ms is None else now_ms
        i, t = schema.incidents, schema.incident_timeline
        with self.engine.connect() as connection:
            rows = connection.execute(select(i).where(i.c.status.in_(ACTIVE), i.c.parent_incident_id == 0)
                                      .order_by(i.c.incident_id)).all()
            ids = [r.incident_id for r in rows]
            entries: dict[int, list[Row]] = {}
            for chunk in range(0, len(ids), 500):
                for entry in connection.execute(select(t).where(t.c.incident_id.in_(ids[chunk:chunk + 500]))):
                    entries.setdefault(entry.incident_id, []).append(entry)
        calendars: dict[str, object] = {}
        recorded = 0
        for row in rows:
            policy = self.config.customer(row.customer).sla
            if row.customer not in calendars:
                calendars[row.customer] = policy.build_calendar()
            found = clocks(row, entries.get(row.incident_id, []), policy, now, calendars[row.customer])  # type: ignore[arg-type]
            if found is None:
                continue
            for clock in found:
                if not clock.running:
                    continue
                for level, share in enumerate(policy.escalate_at, start=1):
                    if clock.elapsed_ms >= share * clock.target_ms:
                        recorded += self._escalate(row, clock, level, share, now, calendars[row.customer])
        self.escalations += recorded
        if recorded and callable(self._wake):
            self._wake()
        return recorded

    def _escalate(self, row: Row, clock: Clock, level: int, share: float, now: int, calendar) -> int:  # type: ignore[no-untyped-def]
        kind = escalation_kind(clock.name, share)
        at_ms = calendar.deadline(clock.started_ms, int(share * clock.target_ms))
        with self.engine.begin() as connection:
            window = maintenance.covering(connection, row.customer, row.site, row.agent_id, row.device_id, now)
            state = notices.SUPPRESSED if window is not None else notices.PENDING
            reason = maintenance.describe(window) if window is not None else ""
            if not notices.record(connection, row.incident_id, kind, level, at_ms, level=level, state=state, reason=reason):
                return 0
            what = (f"{clock.name} clock at {share:.0%} of {hours(clock.target_ms)}"
                    + (" (breached)" if share >= 1.0 else "") + f": escalation level {level}")
            connection.execute(schema.incident_timeline.insert().values(
                incident_id=row.incident_id, at_ms=at_ms, kind="sla", who="vigil",
                text=what + (f" not notified: {reason}" if reason else "")))
        log.info("incident %d: %s", row.incident_id, what)
        return 1

    # ------------------------------------------------------------ the collector's thread

    def start(self) -> None:
        self._passes.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._passes.stop(timeout_s)
