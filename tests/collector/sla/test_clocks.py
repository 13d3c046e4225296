"""Response and plan clocks from the timeline, in business hours, against hand-computed figures; and the escalation sweep."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from collector.incidents import lifecycle, maintenance, notices
from collector.mail.deliver import Deliverer
from collector.notify.service import NotificationService
from collector.sla.clocks import clocks
from collector.sla.escalation import EscalationSweeper
from collector.store import database
from tests.collector.sla.helpers import CUSTOMER, at, config, keeper, open_incident, recover
from tests.peers.smtp import SmtpPeer

MIN, H = 60_000, 3_600_000


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    store = database.open_store(store_url)
    yield store
    store.dispose()


def _clocks(engine: Engine, incident_id: int, now: str):  # type: ignore[no-untyped-def]
    return clocks(lifecycle.get(engine, incident_id), lifecycle.timeline(engine, incident_id),
                  config().customer(CUSTOMER).sla, at(now))


def test_clocks_run_in_business_hours_across_a_weekend_and_a_holiday(engine: Engine) -> None:
    k = keeper(engine)
    incident = open_incident(k, "2026-11-13 17:00", "db-1")        # Friday 17:00; Monday the 16th is a holiday
    response, plan = _clocks(engine, incident, "2026-11-14 12:00")  # Saturday: only Friday's last hour counted
    assert (response.elapsed_ms, response.state, response.running) == (1 * H, "on_track", True)
    assert response.deadline_ms == at("2026-11-17 10:00") and plan.deadline_ms == at("2026-11-24 11:00")
    assert _clocks(engine, incident, "2026-11-17 09:20")[0].state == "on_track"    # 1 h 20 m
    assert _clocks(engine, incident, "2026-11-17 09:30")[0].state == "at_risk"     # 1 h 30 m = 75 %
    assert _clocks(engine, incident, "2026-11-17 10:00")[0].state == "breached"

    lifecycle.acknowledge(engine, incident, "张工", at_ms=at("2026-11-17 10:30"))
    lifecycle.plan(engine, incident, "张工", "扩容 /data 200 GB", at_ms=at("2026-11-18 15:00"))
    response, plan = _clocks(engine, incident, "2026-11-30 00:00")
    assert (response.elapsed_ms, response.state, response.stopped_by) == (int(2.5 * H), "breached", "acknowledged")
    assert (plan.elapsed_ms, plan.state, plan.stopped_by) == (16 * H, "met", "plan")      # 1 + 9 (Tue) + 6 (Wed)


def test_a_recovery_without_an_answer_stops_the_clocks_and_a_reopen_restarts_them(engine: Engine) -> None:
    k = keeper(engine)
    incident = open_incident(k, "2026-11-21 02:00", "db-1")        # Saturday night
    recover(k, "2026-11-23 09:30", "db-1")                         # the check recovered Monday 09:30
    response, plan = _clocks(engine, incident, "2026-11-30 00:00")
    assert (response.elapsed_ms, response.state, response.stopped_by) == (30 * MIN, "met", "resolved")
    assert (plan.elapsed_ms, plan.stopped_by) == (30 * MIN, "resolved")
    open_incident(k, "2026-11-23 10:00", "db-1")                   # fired again within the window: re-opened
    response, _ = _clocks(engine, incident, "2026-11-23 11:00")
    assert (response.elapsed_ms, response.running) == (2 * H, True)  # from the original start


def test_minor_and_folded_incidents_have_no_clocks(engine: Engine) -> None:
    k = keeper(engine)
    minor = open_incident(k, "2026-11-18 10:00", "db-1", check_id="swap_in_use")
    assert lifecycle.get(engine, minor).severity not in ("major", "critical")
    assert _clocks(engine, minor, "2026-11-18 12:00") is None


@pytest.mark.integration
def test_escalation_reaches_level_1_at_75_percent_and_level_2_at_breach_once_each(engine: Engine, tmp_path: Path) -> None:
    smtp = SmtpPeer(tmp_path / "smtp").start()
    try:
        cfg = config(smtp.smtp_config())
        k = keeper(engine)
        incident = open_incident(k, "2026-11-13 17:00", "db-1")
        quiet = open_incident(k, "2026-11-13 17:00", "db-2")
        lifecycle.acknowledge(engine, quiet, "李工", at_ms=at("2026-11-13 17:30"))   # answered: its response clock stopped
        sweeper = EscalationSweeper(engine, cfg)
        assert sweeper.run_once(at("2026-11-17 09:29")) == 0
        assert sweeper.run_once(at("2026-11-17 09:31")) == 1
        assert sweeper.run_once(at("2026-11-17 09:45")) == 0       # once
        assert sweeper.run_once(at("2026-11-17 10:01")) == 1
        assert EscalationSweeper(engine, cfg).run_once(at("2026-11-17 10:30")) == 0   # a restarted collector: still once
        rows = [(n.key, n.at_ms, n.level) for n in notices.of_incident(engine, incident)]
        assert rows[1:] == [(f"incident:{incident}:response_at_risk:1", at("2026-11-17 09:30"), 1),
                            (f"incident:{incident}:response_breached:2", at("2026-11-17 10:00"), 2)]
        assert [n.kind for n in notices.of_incident(engine, quiet)] == ["opened"]

        NotificationService(engine, cfg).run_once(at("2026-11-17 10:01"))
        Deliverer(engine, cfg.smtp).run_once()
        by_rcpt = {tuple(sorted(m.rcpt_tos)): m for m in smtp.received}
        assert set(by_rcpt) == {("noc@provider.cn",), ("lead@provider.cn",), ("director@provider.cn", "manager@provider.cn")}
        assert by_rcpt[("lead@provider.cn",)].subject == f"【重要】响应时限即将到期：客户A / db-1 /data：文件系统空间不足（事件 {incident}）"
        breach = by_rcpt[("director@provider.cn", "manager@provider.cn")]
        assert breach.subject.startswith("【重要】响应已超时")
        assert "SLA：响应（确认）时限已用 2h 01m，目标 2h（截止 2026-11-17 10:00:00 Asia/Shanghai）" in breach.part("text/plain")
        timeline = [(t.kind, t.text) for t in lifecycle.timeline(engine, incident)]
        assert ("sla", "response clock at 75% of 2h: escalation level 1") in timeline
        assert ("escalated", "escalated to level 2: email manager@provider.cn, director@provider.cn") in timeline
    finally:
        smtp.stop()


def test_no_chain_escalates_to_the_on_call_and_maintenance_holds_escalations_back(engine: Engine) -> None:
    k = keeper(engine)
    incident = open_incident(k, "2026-11-18 09:00", "db-1")
    maintenance.add(engine, CUSTOMER, at("2026-11-18 10:00"), at("2026-11-18 12:00"), device_id="db-1", reason="扩容")
    cfg = config()
    EscalationSweeper(engine, cfg).run_once(at("2026-11-18 10:45"))    # 1 h 45 m: at risk, inside the window
    (_, escalation) = notices.of_incident(engine, incident)
    assert (escalation.state, escalation.reason) == ("suppressed", "maintenance window 1 (客户A / db-1: 扩容)")
    no_chain = cfg.model_copy(update={"customers": {CUSTOMER: cfg.customers[CUSTOMER].model_copy(update={"escalation": ()})}})
    other = open_incident(k, "2026-11-19 09:00", "db-2")
    EscalationSweeper(engine, no_chain).run_once(at("2026-11-19 10:40"))
    NotificationService(engine, no_chain).run_once(at("2026-11-19 10:40"))
    (_, escalation) = notices.of_incident(engine, other)
    assert (escalation.state, escalation.reason) == ("queued", "escalated to level 1: email noc@provider.cn")
