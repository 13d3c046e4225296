"""Scheduled inspections run exactly once per due time: across restarts, replicas, a crash mid-run, downtime.

The mail a run queues is checked in the outbox (collector/mail): its key is
the inspection's, so a resumed run cannot queue a second copy; the SMTP
side is in tests/collector/reports/test_mail.py.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select

from collector.config import CollectorConfig
from collector.inspections import job, schedule, store
from collector.store import database, schema
from tests.collector.inspections import site

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = 3_600_000


def _ms(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=SHANGHAI).timestamp() * 1000)


DUE = _ms(2026, 12, 1, 8)          # "0 8 1 * *" in Shanghai
BEFORE = _ms(2026, 11, 20, 12)


def _environment(cron: str = "0 8 1 * *", period: str = "month") -> job.Environment:
    config = CollectorConfig.model_validate({
        "customers": {site.CUSTOMER: {"contacts": ["it@customer-a.cn", "boss@customer-a.cn"]}},
        "inspections": {"provider": "某某运维", "customers": [
            {"customer": site.CUSTOMER, "display_name": "客户A 股份有限公司", "timezone": "Asia/Shanghai",
             "schedules": [{"name": "monthly", "cron": cron, "period": period}]},
        ]},
    })
    return job.Environment.from_config(config)


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    store_ = database.open_store(f"sqlite:///{tmp_path / 'vigil.db'}")
    site.populate(store_)
    yield store_
    store_.dispose()


def _count(engine: Engine, table) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar() or 0)


def test_the_latest_due_time_in_the_schedules_zone() -> None:
    assert schedule.latest_due("0 8 1 * *", "Asia/Shanghai", DUE + 30 * 60_000) == DUE
    assert schedule.latest_due("0 8 1 * *", "Asia/Shanghai", DUE) == DUE
    assert schedule.latest_due("0 8 1 * *", "Asia/Shanghai", DUE - 1) == _ms(2026, 11, 1, 8)
    # 00:30 UTC on 1 December is before 08:00 UTC: the latest due time in UTC is 1 November, 08:00 UTC.
    assert schedule.latest_due("0 8 1 * *", "UTC", DUE + 30 * 60_000) == int(dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC).timestamp() * 1000)


def test_a_due_time_runs_once_however_often_the_collector_looks_or_restarts(engine: Engine) -> None:
    environment = _environment()
    first = schedule.Scheduler(engine, environment, "collector-1")
    assert first.run_pending(BEFORE) == []                      # first sight of the schedule: its cursor starts now
    assert first.run_pending(DUE - 1) == []
    (outcome,) = first.run_pending(DUE + 60_000)
    assert (outcome.status, outcome.number, outcome.mail_queued) == ("done", "VGL-202611-00001", True)
    assert outcome.inspection is not None and outcome.inspection.period_label == "2026-11"
    assert outcome.inspection.display_name == "客户A 股份有限公司" and outcome.inspection.provider == "某某运维"
    assert first.run_pending(DUE + 120_000) == []
    restarted = schedule.Scheduler(engine, environment, "collector-1")
    assert restarted.run_pending(DUE + 180_000) == []
    replica = schedule.Scheduler(engine, environment, "collector-2")
    assert replica.run_pending(DUE + 240_000) == []
    assert _count(engine, schema.inspections) == 1 and _count(engine, schema.reports) == 1
    assert _count(engine, schema.mail_outbox) == 1
    deliveries = {row.recipient: row.status for row in _deliveries(engine, outcome.inspection_id)}
    assert deliveries == {"it@customer-a.cn": "queued", "boss@customer-a.cn": "queued"}


def _deliveries(engine: Engine, inspection_id: int | None):  # type: ignore[no-untyped-def]
    from collector.inspections.mailing import key_of
    from collector.mail import outbox

    return outbox.deliveries(engine, key_of(inspection_id or 0))


def test_a_collector_down_at_several_due_times_catches_up_once(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    environment = _environment(cron="0 6 * * *", period="day")
    scheduler = schedule.Scheduler(engine, environment, "collector-1")
    scheduler.run_pending(_ms(2026, 11, 24, 12))                  # cursor: the 24th at noon
    with caplog.at_level(logging.WARNING, "vigil.collector.inspections"):
        outcomes = scheduler.run_pending(_ms(2026, 11, 27, 9))    # down for the 25th, 26th and 27th at 06:00
    assert [(o.status, o.inspection.period_label) for o in outcomes] == [("done", "2026-11-26")]   # type: ignore[union-attr]
    assert "2 due time(s) passed while the collector was down" in caplog.text
    assert scheduler.run_pending(_ms(2026, 11, 27, 10)) == []
    (outcome,) = scheduler.run_pending(_ms(2026, 11, 28, 6, 1))
    assert outcome.inspection.period_label == "2026-11-27"       # type: ignore[union-attr]
    assert _count(engine, schema.inspections) == 2


@pytest.mark.parametrize("crash_after", ["result", "render:zh", "mail"])
def test_a_run_stopped_mid_way_is_finished_after_the_restart_and_mails_once(engine: Engine, crash_after: str,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    environment = _environment()
    schedule.Scheduler(engine, environment, "collector-1").run_pending(BEFORE)
    real_run = job.run

    def crashing(*args, **kwargs):  # type: ignore[no-untyped-def]
        def interrupt(step: str) -> None:
            if step == crash_after:
                raise job.Interrupted(step)
        return real_run(*args, **kwargs, interrupt=interrupt)

    monkeypatch.setattr(job, "run", crashing)
    with pytest.raises(job.Interrupted):
        schedule.Scheduler(engine, environment, "collector-1").run_pending(DUE + 60_000)
    monkeypatch.setattr(job, "run", real_run)
    with engine.connect() as connection:
        row = connection.execute(select(schema.inspections)).one()
    assert (row.status, row.claimed_by) == ("running", "collector-1")
    assert schedule.Scheduler(engine, environment, "collector-2").run_pending(DUE + 120_000) == []   # its lease holds
    (outcome,) = schedule.Scheduler(engine, environment, "collector-1").run_pending(DUE + 180_000)   # restarted
    assert (outcome.status, outcome.resumed, outcome.inspection_id) == ("done", True, row.inspection_id)
    assert outcome.mail_queued is (crash_after != "mail")
    assert _count(engine, schema.inspections) == 1 and _count(engine, schema.reports) == 1
    assert _count(engine, schema.mail_outbox) == 1
    assert schedule.Scheduler(engine, environment, "collector-1").run_pending(DUE + 240_000) == []


def test_another_replica_takes_over_once_the_lease_has_passed(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    environment = _environment()
    schedule.Scheduler(engine, environment, "collector-1").run_pending(BEFORE)
    real_run = job.run
    monkeypatch.setattr(job, "run", lambda *a, **k: real_run(*a, **k, interrupt=_crash))
    with pytest.raises(job.Interrupted):
        schedule.Scheduler(engine, environment, "collector-1").run_pending(DUE + 60_000)
    monkeypatch.setattr(job, "run", real_run)
    (outcome,) = schedule.Scheduler(engine, environment, "collector-2").run_pending(DUE + 60_000 + store.LEASE_MS + 1)
    assert (outcome.status, outcome.resumed) == ("done", True)
    with engine.connect() as connection:
        assert connection.execute(select(schema.inspections.c.claimed_by, schema.inspections.c.attempts)).one() == ("collector-2", 2)


def _crash(step: str) -> None:
    raise job.Interrupted(step)


def test_a_failed_run_is_retried_later_a_few_times(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    environment = _environment()
    scheduler = schedule.Scheduler(engine, environment, "collector-1")
    scheduler.run_pending(BEFORE)
    from collector.inspections import mailing

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the outbox is on fire")

    monkeypatch.setattr(mailing, "enqueue", broken)
    (outcome,) = scheduler.run_pending(DUE + 60_000)
    assert (outcome.status, outcome.error) == ("failed", "RuntimeError: the outbox is on fire")
    assert scheduler.run_pending(DUE + 120_000) == []                          # not before the retry delay
    monkeypatch.undo()
    (retried,) = scheduler.run_pending(DUE + 60_000 + store.RETRY_MS + 1)
    assert (retried.status, retried.inspection_id, retried.mail_queued) == ("done", outcome.inspection_id, True)


def test_a_new_schedule_does_not_run_the_past_at_once(engine: Engine) -> None:
    scheduler = schedule.Scheduler(engine, _environment(), "collector-1")
    assert scheduler.run_pending(DUE + 3 * HOUR) == []                         # configured after the due time
    assert _count(engine, schema.inspections) == 0
