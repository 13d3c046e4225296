"""`vigil sla --customer X --period 2026-11`: compliance against hand-computed figures (business hours, a holiday)."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.cli.main import main
from collector.incidents import lifecycle
from collector.store import database
from tests.collector.sla.helpers import at, keeper, open_incident, recover

CONFIG = """\
database: sqlite:///unused.db
customers:
  客户A:
    on_call: [noc@provider.cn]
    sla:
      response: 2h
      plan: 48h
      calendar:
        timezone: Asia/Shanghai
        hours: [mon-fri 09:00-18:00]
        holidays: [2026-11-16]
"""


def _store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    engine = database.open_store(url)
    k = keeper(engine)
    # A: Friday 17:00, acknowledged Tuesday 10:30 (Monday a holiday): 1 h + 1.5 h = 2 h 30 m, late; plan Wednesday 15:00: 16 h.
    a = open_incident(k, "2026-11-13 17:00", "db-1")
    lifecycle.acknowledge(engine, a, "张工", at_ms=at("2026-11-17 10:30"))
    lifecycle.plan(engine, a, "张工", "扩容", at_ms=at("2026-11-18 15:00"))
    # B: Wednesday 08:00 (before hours), acknowledged 09:45: 45 m; plan Friday 16:00: 9 + 9 + 7 = 25 h.
    b = open_incident(k, "2026-11-18 08:00", "db-2")
    lifecycle.acknowledge(engine, b, "李工", at_ms=at("2026-11-18 09:45"))
    lifecycle.plan(engine, b, "李工", "更换硬盘", at_ms=at("2026-11-20 16:00"))
    # C: Saturday 02:00, acknowledged Saturday 10:00 (no office time: 0 m); recovered Monday 09:30: plan clock 30 m.
    c = open_incident(k, "2026-11-21 02:00", "db-3")
    lifecycle.acknowledge(engine, c, "王工", at_ms=at("2026-11-21 10:00"))
    recover(k, "2026-11-23 09:30", "db-3")
    # D: Monday 17:30, acknowledged Tuesday 09:20: 30 + 20 = 50 m; plan Tuesday 18:00: 30 m + 9 h = 9 h 30 m.
    d = open_incident(k, "2026-11-23 17:30", "db-4")
    lifecycle.acknowledge(engine, d, "赵工", at_ms=at("2026-11-24 09:20"))
    lifecycle.plan(engine, d, "赵工", "调整阈值", at_ms=at("2026-11-24 18:00"))
    # E: minor, not covered by the policy; F: October, another period.
    open_incident(k, "2026-11-19 10:00", "db-5", check_id="swap_in_use")
    open_incident(k, "2026-10-30 10:00", "db-6")
    engine.dispose()
    return url


def test_compliance_of_a_month(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = _store(tmp_path)
    config = tmp_path / "collector.yaml"
    config.write_text(CONFIG)
    assert main(["--db", url, "--config", str(config), "sla", "--customer", "客户A", "--period", "2026-11"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("SLA compliance — 客户A, 2026-11 (Asia/Shanghai; from 2026-10-31 16:00 UTC")
    assert "policy: response 2h, plan 48h, for major, critical; business hours (mon-fri 09:00-18:00, Asia/Shanghai)" in lines[1]
    assert "incidents: 4  (1 more not covered" in out
    # response: 150, 45, 0, 50 min → 3 of 4 within 2 h; mean 61.25 min; p90 (nearest rank, 4th of 4) 150 min
    # plan: 16 h, 25 h, 30 m, 9 h 30 m → all within 48 h; mean 765 min = 12 h 45 m; p90 25 h
    rows = {line.split()[0]: line.split() for line in lines if line.startswith(("response", "plan "))}
    assert rows["response"] == ["response", "2h", "3", "1", "0", "75.0", "%", "1h", "01m", "2h", "30m"]
    assert rows["plan"] == ["plan", "48h", "4", "0", "0", "100.0", "%", "12h", "45m", "25h"]
    detail = {line.split()[0]: line.split() for line in lines if line[:1].isdigit()}
    assert detail["1"][6:] == ["2h", "30m", "breached", "16h", "met"]
    assert detail["3"][6:] == ["0m", "met", "30m", "met"]


def test_all_customers_and_bad_periods(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = _store(tmp_path)
    assert main(["--db", url, "sla", "--period", "2026-11"]) == 0       # no config: 7×24 defaults
    out = capsys.readouterr().out
    assert "no collector config: the contract's defaults" in out and "客户A" in out
    assert main(["--db", url, "sla", "--period", "2026-13"]) == 2
    assert "no month 13" in capsys.readouterr().err
    assert main(["--db", url, "sla", "--period", "last month"]) == 2
    assert "use 2026-11, 2026-Q4, 2026" in capsys.readouterr().err


def test_the_notification_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = _store(tmp_path)
    assert main(["--db", url, "notices", "--incident", "1"]) == 0
    out = capsys.readouterr().out
    assert "opened" in out and "pending" in out
