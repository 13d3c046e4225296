"""Scheduled inspections: each customer's cron, in its time zone, runs exactly once per due time.

Every `check_interval` the scheduler takes, for each schedule, the latest
due time not after now (croniter, in the schedule's zone). If it is newer
than the schedule's cursor (`cursors` row `inspection:<customer>/<name>`),
the run `schedule:<customer>/<name>:<due ms>` is claimed (a unique row:
one run per due time, whatever restarts or replicas do) and the cursor
moves to it. So a collector that was down at one or several due times
catches up once, with the latest; the ones before it are logged as skipped.
A schedule seen for the first time starts its cursor at now: adding a
schedule on the 20th does not run last month's inspection at once.

Runs that did not finish — the collector stopped during one, or it failed
and is due a retry — are taken over first (store.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from croniter import croniter
from sqlalchemy import Engine, select

from collector.inspections import job, period, store
from collector.store import schema
from collector.store.dialect import insert

log = logging.getLogger("vigil.collector.inspections")
CURSOR_PREFIX = "inspection:"


@dataclass(frozen=True, slots=True)
class Due:
    customer: str
    schedule: str
    due_ms: int
    skipped: int            # due times between the cursor and this one that are not run

    @property
    def run_key(self) -> str:
        return f"schedule:{self.customer}/{self.schedule}:{self.due_ms}"

    @property
    def cursor(self) -> str:
        return f"{CURSOR_PREFIX}{self.customer}/{self.schedule}"


def latest_due(cron: str, tz: str, now_ms: int) -> int:
    """The latest time at or before `now_ms` that `cron` fires at, in zone `tz`."""
    zone = ZoneInfo(tz)
    now = dt.datetime.fromtimestamp(now_ms / 1000, zone)
    itr = croniter(cron, now + dt.timedelta(microseconds=1))
    return int(itr.get_prev(dt.datetime).timestamp() * 1000)


def _count_between(cron: str, tz: str, after_ms: int, until_ms: int, cap: int = 1000) -> int:
    zone = ZoneInfo(tz)
    itr = croniter(cron, dt.datetime.fromtimestamp(after_ms / 1000, zone))
    count = 0
    while count < cap and int(itr.get_next(dt.datetime).timestamp() * 1000) < until_ms:
        count += 1
    return count


class Scheduler:
    def __init__(self, engine: Engine, environment: job.Environment, owner: str,
                 on_outcome: Callable[[job.Outcome], None] | None = None) -> None:
        self.engine = engine
        self.environment = environment
        self.owner = owner
        self.on_outcome = on_outcome or (lambda outcome: None)

    # ------------------------------------------------------------ due times

    def _cursors(self) -> dict[str, int]:
        c = schema.cursors
        with self.engine.connect() as connection:
            rows = connection.execute(select(c.c.name, c.c.position).where(c.c.name.like(CURSOR_PREFIX + "%"))).all()
        return {row.name: int(row.position) for row in rows}

    def _set_cursor(self, name: str, position: int) -> None:
        c = schema.cursors
        with self.engine.begin() as connection:
            statement = insert(connection, c).values(name=name, position=position)
            connection.execute(statement.on_conflict_do_update(index_elements=[c.c.name], set_={"position": position}))

    def due(self, now_ms: int) -> list[Due]:
        """Schedules with a due time past their cursor; new schedules get their cursor (at now) and are not due."""
        cursors = self._cursors()
        found = []
        for customer in self.environment.customers.values():
            for schedule in customer.schedules:
                tz = schedule.timezone or customer.timezone
                name = f"{CURSOR_PREFIX}{customer.customer}/{schedule.name}"
                if name not in cursors:
                    self._set_cursor(name, now_ms)
                    log.info("inspection schedule %s/%s (%s %s, %s) starts now", customer.customer, schedule.name,
                             schedule.cron, tz, schedule.period)
                    continue
                due_ms = latest_due(schedule.cron, tz, now_ms)
                if due_ms > cursors[name]:
                    skipped = _count_between(schedule.cron, tz, cursors[name], due_ms)
                    found.append(Due(customer.customer, schedule.name, due_ms, skipped))
        return found

    # ------------------------------------------------------------ runs

    def run_pending(self, now_ms: int | None = None) -> list[job.Outcome]:
        """Take over unfinished runs, then run every schedule that is due; the outcomes of what ran."""
        now = int(time.time() * 1000) if now_ms is None else now_ms
        outcomes = []
        for row in store.unfinished(self.engine, self.owner, now):
            request = job.Request(
                row.customer, period.Period(row.period_label, row.period_start_ms, row.period_end_ms, row.timezone),
                tuple(row.languages.split(",")), bool(row.send), row.trigger, row.due_ms, row.run_key)
            log.info("inspection run %s: taking over (%s, attempt %d)", row.run_key, row.status, row.attempts + 1)
            outcomes.append(self._run(request, now))
        for due in self.due(now):
            customer = self.environment.customers[due.customer]
            schedule = next(s for s in customer.schedules if s.name == due.schedule)
            tz = schedule.timezone or customer.timezone
            if due.skipped:
                log.warning("inspection schedule %s/%s: %d due time(s) passed while the collector was down; "
                            "running the latest only", due.customer, due.schedule, due.skipped)
            request = job.Request(due.customer, period.previous(schedule.period, due.due_ms, tz), tuple(customer.languages),
                                  schedule.send, "schedule", due.due_ms, due.run_key)
            self._set_cursor(due.cursor, due.due_ms)
            outcomes.append(self._run(request, now))
        return outcomes

    def _run(self, request: job.Request, now: int) -> job.Outcome:
        outcome = job.run(self.engine, request, self.environment, self.owner, now)
        if outcome.inspection_id is not None:
            self.on_outcome(outcome)
        return outcome

    async def serve(self, stop: asyncio.Event, interval_s: float) -> None:
        """Look for due schedules every `interval_s` until `stop` is set; a run works in a thread."""
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.run_pending)
            except Exception:  # a broken store must not end the loop: the next pass tries again
                log.exception("inspection scheduler pass failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval_s)
            except asyncio.TimeoutError:
                pass


def start(engine: Engine, config) -> asyncio.Task[None] | None:  # type: ignore[no-untyped-def]
    """For the collector: the scheduler's task (cancel it to stop), or None when inspections are off or none is scheduled."""
    inspections = config.inspections
    if not inspections.enabled or not any(c.schedules for c in inspections.customers):
        return None
    scheduler = Scheduler(engine, job.Environment.from_config(config), config.collector_id)
    log.info("inspections: %d schedule(s), looked at every %gs",
             sum(len(c.schedules) for c in inspections.customers), inspections.check_interval)
    return asyncio.create_task(scheduler.serve(asyncio.Event(), inspections.check_interval), name="inspections")
