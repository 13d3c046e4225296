"""Incident notices to people: real SMTP (aiosmtpd) and a real HTTP webhook on 127.0.0.1, once per event."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, update

from collector.incidents.notices import of_incident
from collector.mail import outbox
from collector.mail.deliver import Deliverer
from collector.notify import diagnosis
from collector.notify.diagnosis import DiagnosisFinding
from collector.notify.service import NotificationService, Notifications
from collector.notify.webhook import WebhookDeliverer, deliveries
from collector.store import database, schema
from tests.collector.notify.helpers import (
    MIN, T0, WebhookReceiver, config, finding, incidents, keeper, notices, timeline,
)
from tests.peers.smtp import SmtpPeer

pytestmark = pytest.mark.integration


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpPeer]:
    peer = SmtpPeer(tmp_path / "smtp").start()
    yield peer
    peer.stop()


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    store = database.open_store(store_url)
    yield store
    store.dispose()


def notices_of(engine: Engine):  # type: ignore[no-untyped-def]
    return of_incident(engine, 1)


def _deliver(engine: Engine, smtp: SmtpPeer, service: NotificationService) -> None:
    service.run_once()
    Deliverer(engine, smtp.smtp_config()).run_once()


def test_an_opened_incident_mails_the_on_call_and_posts_to_the_webhook(engine: Engine, smtp: SmtpPeer, hook: WebhookReceiver) -> None:
    cfg = config(**{"客户A": {"language": "both", "on_call": ["noc@provider.cn"], "contacts": ["it@customer-a.cn"],
                              "webhook": hook.url + "/hook?key=t0ken"}})
    cfg = cfg.model_copy(update={"notify": cfg.notify.model_copy(update={"incident_url": "https://noc.example.com/incidents/{id}"})})
    keeper(engine).handle(finding("fire", T0))
    service = NotificationService(engine, cfg)
    assert service.run_once() == 1
    assert service.run_once() == 0                                          # routed once
    assert Deliverer(engine, smtp.smtp_config()).run_once() == 1            # major: the customer's contacts are not told
    assert WebhookDeliverer(engine).run_once() == 1

    (mail,) = smtp.received
    assert mail.rcpt_tos == ["noc@provider.cn"]
    assert mail.subject == "[MAJOR 重要] 客户A / db-1 cpu-total: CPU usage high / CPU 使用率过高 (#1)"
    text = mail.part("text/plain")
    assert "97" in text and "分析" in text and "Advice:" in text and "vigil incident show 1" in text
    assert "https://noc.example.com/incidents/1" in text and "linux_cpu_top" in text
    html = mail.part("text/html")
    assert '<a href="https://noc.example.com/incidents/1">' in html and "CPU 使用率过高" in html

    ((path, data),) = hook.posts
    assert path == "/hook?key=t0ken"
    assert (data["kind"], data["incident_id"], data["customer"], data["check_id"]) == ("opened", 1, "客户A", "cpu_high")
    assert data["title"] == {"en": "CPU usage high", "zh": "CPU 使用率过高"}
    assert [r.status for r in deliveries(engine, "incident:1:opened:1")] == ["sent"]
    assert notices(engine) == [("incident:1:opened:1", "queued",
                                f"opened notified: email noc@provider.cn; webhook 127.0.0.1:{hook.url.rsplit(':', 1)[1]}")]
    assert timeline(engine, 1)[-1][0] == "notified"


def test_subjects_in_the_customers_language_and_critical_reaches_the_customers_contacts(engine: Engine, smtp: SmtpPeer) -> None:
    k = keeper(engine)
    k.handle(finding("fire", T0, check_id="device_unreachable", device_id="core-sw1", instance=""))
    k.handle(finding("fire", T0, agent_id="b1", device_id="web-1"))
    _deliver(engine, smtp, NotificationService(engine, config()))
    subjects = {tuple(sorted(m.rcpt_tos)): m.subject for m in smtp.received}
    assert subjects == {
        ("it@customer-a.cn", "noc@provider.cn"): "【严重】客户A / core-sw1：设备不可达（事件 1）",
        ("noc@provider.cn",): "[MAJOR] Beta Ltd / web-1 cpu-total: CPU usage high (incident 2)",
    }


def test_below_min_severity_or_without_a_route_nobody_is_told_and_it_says_why(engine: Engine, smtp: SmtpPeer) -> None:
    k = keeper(engine)
    k.handle(finding("fire", T0))                                  # 客户A: major
    k.handle(finding("fire", T0, agent_id="b1", device_id="web-1"))
    cfg = config(**{"客户A": {"on_call": ["noc@provider.cn"], "min_severity": "critical"}})
    assert NotificationService(engine, cfg).run_once() == 0
    assert [(key, state) for key, state, _ in notices(engine)] == [("incident:1:opened:1", "skipped"), ("incident:2:opened:1", "skipped")]
    assert "below the customer's min_severity critical" in notices(engine)[0][2]
    assert "no route: customer 'Beta Ltd'" in notices(engine)[1][2]


def test_one_mail_per_event_across_restarts_and_crashes(engine: Engine, smtp: SmtpPeer, store_url: str) -> None:
    k = keeper(engine)
    k.handle(finding("fire", T0))
    k.handle(finding("fire", T0 + MIN))           # still firing: no new event
    _deliver(engine, smtp, NotificationService(engine, config()))
    assert len(smtp.received) == 1
    # A crash after the mail was queued but before the notice was marked: the next pass finds it pending again.
    with engine.begin() as c:
        c.execute(update(schema.incident_notices).values(state="pending"))
    engine.dispose()
    again = database.open_store(store_url)      # the restarted collector
    k2 = keeper(again)
    k2.handle(finding("fire", T0 + 2 * MIN))      # the engine re-fires after a restart: the keeper takes it as a refresh
    _deliver(again, smtp, NotificationService(again, config()))
    assert len(smtp.received) == 1
    assert [r.status for r in outbox.deliveries(again, "incident:1:opened:1")] == ["sent"]
    again.dispose()


def test_a_flapping_incident_stops_notifying_until_it_settles(engine: Engine, smtp: SmtpPeer) -> None:
    k = keeper(engine)
    service = NotificationService(engine, config(**{"Beta Ltd": {"language": "en", "on_call": ["noc@provider.cn"]}}))
    at = T0
    for _ in range(6):
        k.handle(finding("fire", at, agent_id="b1"))
        k.handle(finding("resolve", at + 2 * MIN, agent_id="b1", value=50.0))
        at += 5 * MIN
        _deliver(engine, smtp, service)
    kinds = [m.subject.split("] ")[1].partition("Beta Ltd")[0].rstrip(": ") for m in smtp.received]
    assert kinds == ["", "Resolved", "Re-opened", "Resolved", "Re-opened", "Resolved",
                     "Flapping, notifications paused"]
    assert "notifications paused until it settles" in dict(timeline(engine, 1))["flapping"]
    # Settled and closed: said once; the next fire is a new incident and is told again.
    k.sweep(at + 40 * MIN)
    k.handle(finding("fire", at + 50 * MIN, agent_id="b1"))
    _deliver(engine, smtp, service)
    assert [m.subject for m in smtp.received[-2:]] == [
        "[MAJOR] Settled after flapping, closed: Beta Ltd / db-1 cpu-total: CPU usage high (incident 1)",
        "[MAJOR] Beta Ltd / db-1 cpu-total: CPU usage high (incident 2)"]


def test_a_webhook_is_retried_with_backoff_and_a_bad_request_fails(engine: Engine, hook: WebhookReceiver) -> None:
    cfg = config(**{"客户A": {"webhook": hook.url + "/wecom", "webhook_format": "wecom"}})
    k = keeper(engine)
    k.handle(finding("fire", T0))
    NotificationService(engine, cfg).run_once()
    hook.answers = [503, 429]
    webhooks = WebhookDeliverer(engine)
    now = int(time.time() * 1000)
    assert webhooks.run_once(now) == 0
    (row,) = deliveries(engine, "incident:1:opened:1")
    assert (row.status, row.attempts) == ("retrying", 1) and row.last_error.startswith("HTTP 503")
    assert webhooks.run_once(now + 29_000) == 0 and hook.answers == [429]   # backing off (30 s)
    assert webhooks.run_once(now + 30_000) == 0                              # 429: again, 60 s
    assert webhooks.run_once(now + 90_000) == 1
    ((path, data),) = hook.posts
    assert path == "/wecom" and data["msgtype"] == "text" and "CPU 使用率过高" in data["text"]["content"]

    k.handle(finding("fire", T0, device_id="db-2"))
    NotificationService(engine, cfg).run_once()
    hook.answers = [404]
    webhooks.run_once(now + 100_000)
    (row,) = deliveries(engine, "incident:2:opened:1")
    assert row.status == "failed" and row.last_error.startswith("HTTP 404")


def _run(engine: Engine, incident_id: int, status: str, findings: list[dict[str, object]] | None = None) -> None:
    """A playbook run the incident started, as the playbook work records it."""
    runs = schema.playbook_runs
    with engine.begin() as c:
        c.execute(delete(runs).where(runs.c.incident_id == incident_id))
        c.execute(runs.insert().values(
            agent_id="b1", device_id="db-1", playbook_id="linux_cpu_top", playbook_hash="0" * 64, mode="diagnostic",
            requested_by="vigil", requested_ms=T0, incident_id=incident_id, status=status,
            findings=json.dumps(findings or [], ensure_ascii=False)))


def test_the_opening_mail_waits_for_the_auto_diagnosis_and_carries_its_findings(engine: Engine, smtp: SmtpPeer) -> None:
    keeper(engine).handle(finding("fire", T0, agent_id="b1"))
    service = NotificationService(engine, config(diagnosis_wait=60.0))
    (pending,) = notices(engine)
    created = notices_of(engine)[0].created_ms
    assert service.run_once(created + 1_000) == 0                  # no run queued yet: a short grace
    _run(engine, 1, "running")
    assert service.run_once(created + 30_000) == 0                 # the diagnosis runs: wait for it
    _run(engine, 1, "ok", [{
        "step": "top", "severity": "major", "evidence": {"pid": "4242", "command": "java -jar app.jar"},
        "title": {"en": "Process java uses 380 % CPU", "zh": "进程 java 占用 380% CPU"},
        "explanation": {"en": "One process holds four cores.", "zh": "一个进程占满四个核。"},
        "advice": {"en": "Check the job.", "zh": "检查该任务。"},
    }])
    assert service.run_once(created + 31_000) == 1
    Deliverer(engine, smtp.smtp_config()).run_once()
    text = smtp.received[0].part("text/plain")
    assert "Diagnosis (1 finding):" in text
    assert "- [major] Process java uses 380 % CPU: One process holds four cores.; Check the job.; pid=4242, command=java -jar app.jar" in text
    assert "<b>[major] Process java uses 380 % CPU</b>" in smtp.received[0].part("text/html")


def test_a_diagnosis_that_takes_too_long_is_not_waited_for(engine: Engine) -> None:
    keeper(engine).handle(finding("fire", T0, agent_id="b1"))
    _run(engine, 1, "running")
    service = NotificationService(engine, config(diagnosis_wait=60.0))
    created = notices_of(engine)[0].created_ms
    assert service.run_once(created + 59_000) == 0
    assert service.run_once(created + 61_000) == 1


def test_findings_in_chinese_for_a_chinese_customer(engine: Engine, smtp: SmtpPeer, monkeypatch: pytest.MonkeyPatch) -> None:
    found = [DiagnosisFinding("Process java uses 380 % CPU", "PID 4242", "major", "linux_cpu_top", title_zh="进程 java 占用 380% CPU")]
    monkeypatch.setattr(diagnosis, "attachments_for", lambda incident_id, engine=None: found)
    keeper(engine).handle(finding("fire", T0))
    _deliver(engine, smtp, NotificationService(engine, config()))
    assert "诊断结果（1 项）：\r\n- [major] 进程 java 占用 380% CPU：PID 4242" in smtp.received[0].part("text/plain").replace("\n", "\r\n").replace("\r\r", "\r")


def test_the_collectors_threads_deliver_without_blocking_the_keeper(engine: Engine, smtp: SmtpPeer) -> None:
    stack = Notifications(engine, config(smtp.smtp_config()))
    stack.start()
    try:
        k = keeper(engine, notify=stack.wake)
        started = time.perf_counter()
        k.handle(finding("fire", T0, agent_id="b1"))
        assert time.perf_counter() - started < 0.5          # the keeper only writes the notice and wakes the thread
        deadline = time.monotonic() + 10
        while not smtp.received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [m.rcpt_tos for m in smtp.received] == [["noc@provider.cn"]]
    finally:
        stack.stop()
    assert incidents(engine)[0].status == "open"
