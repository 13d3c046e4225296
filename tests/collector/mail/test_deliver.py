"""collector/mail against a real SMTP server (aiosmtpd on 127.0.0.1): STARTTLS + AUTH, refusals, retries, restarts."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from collector.mail import Attachment, outbox
from collector.mail.deliver import Deliverer
from collector.store import database
from tests.peers.smtp import PASSWORD, SmtpPeer

pytestmark = pytest.mark.integration

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpPeer]:
    peer = SmtpPeer(tmp_path / "smtp").start()
    yield peer
    peer.stop()


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    store = database.open_store(store_url)
    yield store
    store.dispose()


def _status(engine: Engine, key: str) -> dict[str, tuple[str, int]]:
    return {r.recipient: (r.status, r.attempts) for r in outbox.deliveries(engine, key)}


def test_chinese_subject_bodies_and_attachment_arrive_intact_over_starttls_with_auth(engine: Engine, smtp: SmtpPeer) -> None:
    subject = "【严重】客户A / core-sw1：设备不可达 — Device unreachable (#12)"
    assert outbox.enqueue(engine, "report:客户A:2026-11", ["张工 <zhang@acme.cn>", "ops@acme.cn", "OPS@acme.cn"], subject,
                          "<p>巡检报告 <b>2026-11</b></p>", "巡检报告 2026-11\n一切正常。",
                          [Attachment("巡检报告-2026-11.pdf", "application/pdf", PDF), Attachment("数据.csv", "text/csv", "设备,状态\n".encode())])
    deliverer = Deliverer(engine, smtp.smtp_config())
    assert deliverer.run_once() == 2
    (mail,) = smtp.received
    assert sorted(mail.rcpt_tos) == ["ops@acme.cn", "zhang@acme.cn"]     # OPS@ is the same mailbox: once
    assert mail.mail_from == "noc@vigil.example"
    assert mail.subject == subject
    assert mail.message["From"].addresses[0].display_name == "Vigil 值班"
    assert "一切正常" in mail.part("text/plain") and "<b>2026-11</b>" in mail.part("text/html")
    assert mail.attachments() == [("巡检报告-2026-11.pdf", "application/pdf", PDF), ("数据.csv", "text/csv", "设备,状态\n".encode())]
    assert smtp.logins == [("vigil", True)]
    assert _status(engine, "report:客户A:2026-11") == {"ops@acme.cn": ("sent", 1), "zhang@acme.cn": ("sent", 1)}
    assert all(r.sent_ms > 0 and r.last_error == "" for r in outbox.deliveries(engine, "report:客户A:2026-11"))


def test_a_key_is_sent_once_even_after_a_restart(engine: Engine, smtp: SmtpPeer, store_url: str) -> None:
    assert outbox.enqueue(engine, "incident:1:opened:1", ["a@x.cn"], "s", "", "t")
    assert not outbox.enqueue(engine, "incident:1:opened:1", ["a@x.cn", "b@x.cn"], "other", "", "t")
    assert Deliverer(engine, smtp.smtp_config()).run_once() == 1
    engine.dispose()
    restarted = database.open_store(store_url)   # a new collector over the same store
    assert not outbox.enqueue(restarted, "incident:1:opened:1", ["a@x.cn"], "s", "", "t")
    assert Deliverer(restarted, smtp.smtp_config()).run_once() == 0
    assert len(smtp.received) == 1
    restarted.dispose()


def test_a_refused_recipient_is_recorded_and_the_others_still_get_it(engine: Engine, smtp: SmtpPeer) -> None:
    smtp.refuse.add("gone@acme.cn")
    outbox.enqueue(engine, "k", ["ok@acme.cn", "gone@acme.cn", "ok2@acme.cn"], "s", "", "t")
    deliverer = Deliverer(engine, smtp.smtp_config())
    assert deliverer.run_once() == 2
    assert [sorted(m.rcpt_tos) for m in smtp.received] == [["ok2@acme.cn", "ok@acme.cn"]]
    rows = {r.recipient: r for r in outbox.deliveries(engine, "k")}
    assert rows["gone@acme.cn"].status == "refused" and rows["gone@acme.cn"].last_error.startswith("550 5.1.1")
    assert deliverer.run_once(int(time.time() * 1000) + 3_600_000) == 0       # refused is final
    assert len(smtp.received) == 1


def test_all_recipients_refused(engine: Engine, smtp: SmtpPeer) -> None:
    smtp.refuse.add("gone@acme.cn")
    outbox.enqueue(engine, "k", ["gone@acme.cn"], "s", "", "t")
    assert Deliverer(engine, smtp.smtp_config()).run_once() == 0
    assert _status(engine, "k") == {"gone@acme.cn": ("refused", 1)}
    assert smtp.received == []


def test_a_deferred_recipient_is_retried_with_backoff_alone(engine: Engine, smtp: SmtpPeer) -> None:
    smtp.defer["busy@acme.cn"] = 2
    outbox.enqueue(engine, "k", ["busy@acme.cn", "ok@acme.cn"], "s", "", "t")
    deliverer = Deliverer(engine, smtp.smtp_config(retry_initial=10.0, retry_max=15.0))
    now = int(time.time() * 1000)
    assert deliverer.run_once(now) == 1
    (row,) = [r for r in outbox.deliveries(engine, "k") if r.recipient == "busy@acme.cn"]
    assert (row.status, row.attempts) == ("retrying", 1) and row.last_error.startswith("451")
    assert deliverer.run_once(now + 9_000) == 0          # not due before 10 s
    assert deliverer.run_once(now + 10_000) == 0         # 451 again; next wait 20 s capped at 15 s
    assert deliverer.run_once(now + 24_000) == 0
    assert deliverer.run_once(now + 25_000) == 1
    assert _status(engine, "k") == {"busy@acme.cn": ("sent", 3), "ok@acme.cn": ("sent", 1)}
    assert [m.rcpt_tos for m in smtp.received] == [["ok@acme.cn"], ["busy@acme.cn"]]


def test_mail_waits_out_a_server_outage_and_is_delivered_once_it_is_back(engine: Engine, smtp: SmtpPeer) -> None:
    smtp.stop()
    outbox.enqueue(engine, "k1", ["a@acme.cn"], "s1", "", "t")
    outbox.enqueue(engine, "k2", ["b@acme.cn"], "s2", "", "t")
    deliverer = Deliverer(engine, smtp.smtp_config(retry_initial=5.0))
    now = int(time.time() * 1000)
    assert deliverer.run_once(now) == 0
    assert _status(engine, "k1") == {"a@acme.cn": ("retrying", 1)} and _status(engine, "k2") == {"b@acme.cn": ("retrying", 1)}
    assert "ConnectionRefusedError" in outbox.deliveries(engine, "k1")[0].last_error
    smtp.start()
    assert deliverer.run_once(now + 1000) == 0            # backing off
    assert deliverer.run_once(now + 5000) == 2
    assert sorted(m.subject for m in smtp.received) == ["s1", "s2"]


def test_a_wrong_password_is_retried_and_never_written_down(engine: Engine, smtp: SmtpPeer,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    wrong = "Wr0ng-Pa55word"
    outbox.enqueue(engine, "k", ["a@acme.cn"], "s", "", "t")
    with caplog.at_level(logging.DEBUG):
        assert Deliverer(engine, smtp.smtp_config(password=wrong)).run_once() == 0
    (row,) = outbox.deliveries(engine, "k")
    assert row.status == "retrying" and row.last_error.startswith("login failed: 535")
    assert wrong not in row.last_error and wrong not in caplog.text and PASSWORD not in caplog.text
    assert "SecretStr('**********')" in repr(smtp.smtp_config())


def test_given_up_after_the_limit(engine: Engine, smtp: SmtpPeer) -> None:
    smtp.stop()
    outbox.enqueue(engine, "k", ["a@acme.cn"], "s", "", "t")
    deliverer = Deliverer(engine, smtp.smtp_config(give_up_after=60.0))
    now = int(time.time() * 1000)
    deliverer.run_once(now)
    deliverer.run_once(now + 61_000)
    (row,) = outbox.deliveries(engine, "k")
    assert row.status == "failed" and "gave up" in row.last_error


def test_implicit_tls(engine: Engine, tmp_path: Path) -> None:
    peer = SmtpPeer(tmp_path / "ssl", implicit_tls=True).start()
    try:
        outbox.enqueue(engine, "k", ["a@acme.cn"], "隐式 TLS", "", "t")
        assert Deliverer(engine, peer.smtp_config()).run_once() == 1
        assert peer.received[0].subject == "隐式 TLS"
    finally:
        peer.stop()


def test_an_untrusted_certificate_is_not_sent_to(engine: Engine, smtp: SmtpPeer) -> None:
    outbox.enqueue(engine, "k", ["a@acme.cn"], "s", "", "t")
    assert Deliverer(engine, smtp.smtp_config(ca=None)).run_once() == 0
    (row,) = outbox.deliveries(engine, "k")
    assert row.status == "retrying" and "CERTIFICATE_VERIFY_FAILED" in row.last_error
    assert smtp.logins == []


def test_the_thread_delivers_what_is_enqueued(engine: Engine, smtp: SmtpPeer) -> None:
    deliverer = Deliverer(engine, smtp.smtp_config(poll_interval=30.0))
    deliverer.start()
    try:
        outbox.enqueue(engine, "k", ["a@acme.cn"], "s", "", "t")   # wakes the thread: no 30 s wait
        deadline = time.monotonic() + 10
        while not smtp.received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(smtp.received) == 1
    finally:
        deliverer.stop()


def test_bad_input_is_refused_at_enqueue(engine: Engine) -> None:
    with pytest.raises(ValueError, match="no recipient"):
        outbox.enqueue(engine, "k", [], "s", "", "t")
    with pytest.raises(ValueError, match="is not an e-mail address"):
        outbox.enqueue(engine, "k", ["nobody"], "s", "", "t")
    with pytest.raises(ValueError, match="type/subtype"):
        Attachment("a.pdf", "pdf", b"")
    assert outbox.deliveries(engine, "k") == []
