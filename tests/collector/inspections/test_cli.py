"""`vigil inspect`, `vigil reports`, `vigil reports show`, `vigil reports get` on a real store (and SMTP peer for --send)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.cli.main import main
from collector.store import database
from tests.collector.inspections import site
from tests.peers.smtp import PASSWORD, USER, SmtpPeer


@pytest.fixture
def url(tmp_path: Path) -> str:
    address = f"sqlite:///{tmp_path / 'vigil.db'}"
    engine = database.open_store(address)
    site.populate(engine)
    engine.dispose()
    return address


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpPeer]:
    peer = SmtpPeer(tmp_path / "smtp").start()
    yield peer
    peer.stop()


def test_inspect_then_list_show_and_get_the_report(url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["--db", url, "inspect", "--customer", site.CUSTOMER, "--period", "2026-11-01..2026-11-20", "--lang", "zh",
                 "--lang", "en", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Report VGL-20261101-00001: 4 devices" in printed
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"VGL-20261101-00001-客户A-2026-11-01..2026-11-20-{lang}.{ext}" for lang in ("zh", "en") for ext in ("pdf", "html"))
    assert main(["--db", url, "reports"]) == 0
    listing = capsys.readouterr().out
    assert "VGL-20261101-00001" in listing and "客户A" in listing and " zh " in listing and " en " in listing
    assert main(["--db", url, "reports", "--customer", "nobody"]) == 0
    assert "No inspection reports yet" in capsys.readouterr().out
    assert main(["--db", url, "reports", "show", "1"]) == 0
    shown = capsys.readouterr().out
    assert "Report 1: VGL-20261101-00001 (zh)" in shown and "top risks:" in shown and "设备不可达" in shown and "not mailed" in shown
    pdf, html = tmp_path / "r.pdf", tmp_path / "r.html"
    assert main(["--db", url, "reports", "get", "1", "--format", "pdf", "-o", str(pdf)]) == 0
    assert main(["--db", url, "reports", "get", "2", "--format", "html", "-o", str(html)]) == 0
    assert pdf.read_bytes() == (out / "VGL-20261101-00001-客户A-2026-11-01..2026-11-20-zh.pdf").read_bytes()
    assert 'lang="en"' in html.read_text(encoding="utf-8")


def test_mistakes_are_said_plainly(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", url, "inspect", "--customer", "没有这个客户", "--period", "2026-11"]) == 2
    assert "has no devices in this store" in capsys.readouterr().err
    assert main(["--db", url, "inspect", "--customer", site.CUSTOMER, "--period", "2026-13"]) == 2
    assert "period '2026-13'" in capsys.readouterr().err
    assert main(["--db", url, "inspect", "--customer", site.CUSTOMER, "--period", "2026-11", "--send"]) == 2
    assert "has no contacts" in capsys.readouterr().err
    assert main(["--db", url, "reports", "show", "42"]) == 2
    assert "no report 42" in capsys.readouterr().err


def test_inspect_send_mails_the_contacts_now(url: str, tmp_path: Path, smtp: SmtpPeer, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "collector.yaml"
    config.write_text(
        f"database: {url}\n"
        "smtp:\n"
        f"  host: 127.0.0.1\n  port: {smtp.port}\n  security: starttls\n  username: {USER}\n  password: '{PASSWORD}'\n"
        f"  sender: 'Vigil <noc@vigil.example>'\n  ca: {smtp.cert}\n"
        "customers:\n"
        f"  {site.CUSTOMER}:\n    contacts: [it@customer-a.cn]\n"
        "inspections:\n  provider: 某某运维\n", encoding="utf-8")
    assert main(["--config", str(config), "inspect", "--customer", site.CUSTOMER, "--period", "2026-11-01..2026-11-20", "--send"]) == 0
    assert "mail to it@customer-a.cn: sent" in capsys.readouterr().out
    (mail,) = smtp.received
    assert mail.rcpt_tos == ["it@customer-a.cn"] and mail.attachments()[0][1] == "application/pdf"
    assert main(["--config", str(config), "reports", "show", "1"]) == 0
    assert "it@customer-a.cn: sent after 1 attempt(s)" in capsys.readouterr().out
