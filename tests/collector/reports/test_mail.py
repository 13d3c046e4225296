"""The report mailed to the customer, received by a real SMTP server (aiosmtpd on 127.0.0.1, STARTTLS and AUTH)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from collector.config import CollectorConfig
from collector.inspections import job, mailing, period, schedule, store
from collector.mail import outbox
from collector.mail.deliver import Deliverer
from collector.store import database
from tests.collector.inspections import site
from tests.peers.smtp import SmtpPeer

pytestmark = pytest.mark.integration

DUE = int(dt.datetime(2026, 12, 1, 8, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp() * 1000)
CONTACTS = ["张工 <zhang@customer-a.cn>", "it@customer-a.cn", "gone@customer-a.cn"]


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpPeer]:
    peer = SmtpPeer(tmp_path / "smtp").start()
    yield peer
    peer.stop()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    store_ = database.open_store(f"sqlite:///{tmp_path / 'vigil.db'}")
    site.populate(store_)
    yield store_
    store_.dispose()


def _environment(languages: tuple[str, ...] = ("zh",)) -> job.Environment:
    config = CollectorConfig.model_validate({
        "customers": {site.CUSTOMER: {"contacts": CONTACTS}},
        "inspections": {"provider": "某某运维服务有限公司", "customers": [
            {"customer": site.CUSTOMER, "languages": list(languages), "schedules": [{"cron": "0 8 1 * *"}]}]},
    })
    return job.Environment.from_config(config)


def _november() -> period.Period:
    return period.parse("2026-11", site.TZ, site.NOW)


def test_the_customer_gets_the_summary_and_the_pdf_and_a_refusing_address_is_recorded(engine: Engine, smtp: SmtpPeer) -> None:
    smtp.refuse.add("gone@customer-a.cn")
    outcome = job.run(engine, job.Request(site.CUSTOMER, _november(), ("zh",), send=True), _environment(), "test", site.NOW)
    assert (outcome.status, outcome.mail_key, outcome.mail_queued) == ("done", f"inspection:{outcome.inspection_id}", True)
    assert Deliverer(engine, smtp.smtp_config()).run_once() == 2
    (mail,) = smtp.received
    assert sorted(mail.rcpt_tos) == ["it@customer-a.cn", "zhang@customer-a.cn"]
    assert mail.subject == f"【巡检报告】客户A 2026-11（{outcome.number}）"
    html, text = mail.part("text/html"), mail.part("text/plain")
    assert "健康评分" in html and "59.5" in html and "设备不可达" in html and "50.0%" in html
    assert "59.5" in text and "[严重] core-sw · 设备不可达" in text
    ((name, kind, data),) = mail.attachments()
    assert (name, kind) == (f"巡检报告-客户A-2026-11-{outcome.number}.pdf", "application/pdf")
    stored = store.report(engine, outcome.reports["zh"])
    assert data == bytes(stored.pdf) and data.startswith(b"%PDF-")
    log = {row.recipient: row for row in outbox.deliveries(engine, outcome.mail_key)}
    assert {r: row.status for r, row in log.items()} == {"gone@customer-a.cn": "refused", "it@customer-a.cn": "sent",
                                                         "zhang@customer-a.cn": "sent"}
    assert log["gone@customer-a.cn"].last_error.startswith("550 5.1.1")


def test_an_english_report_goes_with_an_english_subject_and_both_pdfs_attach(engine: Engine, smtp: SmtpPeer) -> None:
    outcome = job.run(engine, job.Request(site.CUSTOMER, _november(), ("en", "zh"), send=True), _environment(), "test", site.NOW)
    Deliverer(engine, smtp.smtp_config()).run_once()
    (mail,) = smtp.received
    assert mail.subject == f"Inspection report: 客户A, 2026-11 ({outcome.number})"
    assert "Top risks" in mail.part("text/html")
    assert [a[0] for a in mail.attachments()] == [f"inspection-report-客户A-2026-11-{outcome.number}.pdf",
                                                 f"巡检报告-客户A-2026-11-{outcome.number}.pdf"]


def test_a_collector_restarted_mid_run_does_not_mail_twice(engine: Engine, smtp: SmtpPeer, monkeypatch: pytest.MonkeyPatch) -> None:
    environment = _environment()
    schedule.Scheduler(engine, environment, "collector-1").run_pending(DUE - 86_400_000)
    real_run = job.run

    def crash_after_the_mail(*args, **kwargs):  # type: ignore[no-untyped-def]
        def interrupt(step: str) -> None:
            if step == "mail":
                raise job.Interrupted(step)
        return real_run(*args, **kwargs, interrupt=interrupt)

    monkeypatch.setattr(job, "run", crash_after_the_mail)
    with pytest.raises(job.Interrupted):
        schedule.Scheduler(engine, environment, "collector-1").run_pending(DUE + 60_000)
    monkeypatch.setattr(job, "run", real_run)
    assert Deliverer(engine, smtp.smtp_config()).run_once() == 3        # the mail had been queued: it goes out
    (outcome,) = schedule.Scheduler(engine, environment, "collector-1").run_pending(DUE + 120_000)   # the restart finishes the run
    assert (outcome.status, outcome.resumed, outcome.mail_queued) == ("done", True, False)
    assert Deliverer(engine, smtp.smtp_config()).run_once() == 0
    assert len(smtp.received) == 1
    assert mailing.key_of(outcome.inspection_id or 0) == outcome.mail_key
