"""`vigil checks`: the library as a table, and the thresholds in effect for a device of a real SQLite store."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

import checks
from agent.configfile import ConfigError
from collector.cli import checks_command
from collector.cli.errors import UsageError
from collector.store import database, registry
from collector.store.writer import MetricWriter
from tests.collector.store.helpers import T0, batch, hello

OVERRIDES = """\
overrides:
  - match: {customer: 客户A}
    checks:
      cpu_high: {threshold: 95, for: 10m}
      fan_failed: {enabled: false}
  - match: {device: core-sw-1, interface: Gi1/0/48}
    checks:
      interface_utilisation_high: {threshold: 97}
"""


def _vigil(args: list[str], url: str = "") -> int:
    parser = argparse.ArgumentParser(prog="vigil")
    parser.add_argument("--db")
    checks_command.add_parser(parser.add_subparsers(dest="command"))
    return checks_command.run(parser.parse_args(args), lambda parsed: url)


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    engine = database.open_store(url)
    switch = hello("a1", "core-sw-1")                       # customer 客户A, site 上海, kind switch
    switch.devices[0].pollers.append("snmp")
    registry.register(engine, switch, "peer", T0)
    registry.register(engine, hello("a2", "core-sw-1", "edge-sw-9"), "peer", T0)
    up = [T0, T0 + 60_000]
    series = [
        ("core-sw-1", "cpu_usage_percent", {"cpu": "cpu-total"}, up, [12.0, 14.0]),
        ("core-sw-1", "sensors_fan_ok", {"fan": "Fan 1"}, up, [1.0, 1.0]),
        ("core-sw-1", "net_oper_up", {"interface": "Gi1/0/1"}, up, [1.0, 1.0]),
        ("core-sw-1", "net_admin_up", {"interface": "Gi1/0/1"}, up, [1.0, 1.0]),
    ] + [
        ("core-sw-1", "net_utilisation_percent", {"interface": name, "direction": direction}, up, [3.0, 4.0])
        for name in ("Gi1/0/1", "Gi1/0/48") for direction in ("in", "out")
    ]
    MetricWriter(engine).write([batch("a1", 1, series)], T0)
    engine.dispose()
    return url


def test_the_library_lists_every_check_with_both_titles_and_its_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    assert _vigil(["checks"]) == 0
    out = capsys.readouterr().out
    for check in checks.library().values():
        line = next(line for line in out.splitlines() if line.startswith(check.id + " "))
        assert check.title.en in line and check.title.zh in line and check.severity in line
    assert "threshold=90 recover=80 for=5m recover_for=2m" in out                      # cpu_high, durations as written
    assert "net_oper_up per interface, while net_admin_up=1" in out
    assert "traps temperature_alarm, temperature_high, temperature_critical" in out
    assert "disk_used_percent per path, hourly means" in out


def test_an_overrides_file_alone_is_validated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "overrides.yaml"
    good.write_text(OVERRIDES, encoding="utf-8")
    assert _vigil(["checks", "--overrides", str(good)]) == 0
    assert f"{good}: valid, 3 setting(s) for 3 check(s)." in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("overrides:\n  - match: {}\n    checks: {cpu_high: {for: soon}}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"{bad}:3: overrides\[0\]\.checks\.cpu_high\.for: 'soon' is not a duration"):
        _vigil(["checks", "--overrides", str(bad)])


def test_a_device_shows_the_checks_that_read_it_with_thresholds_after_overrides(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    overrides = tmp_path / "overrides.yaml"
    overrides.write_text(OVERRIDES, encoding="utf-8")
    assert _vigil(["checks", "--device", "a1/core-sw-1", "--overrides", str(overrides)], store) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "a1/core-sw-1 (switch) — customer 客户A, site 上海"
    first_table = lines[3:lines.index("")]
    row = {line.split()[0]: line.split()[1:] for line in first_table}
    assert row["cpu_high"] == ["major", "1", "threshold=95*", "recover=80", "for=10m*", "recover_for=2m"]
    assert row["fan_failed"] == ["major", "1", "disabled"]
    assert row["interface_down"][:2] == ["major", "1"]
    assert row["interface_utilisation_high"][:3] == ["minor", "4", "threshold=90"]   # 2 interfaces × in/out
    assert row["temperature_trap"][:2] == ["major", "traps"]                       # polled over SNMP: traps apply
    assert "filesystem_usage" not in row and "host_rebooted" not in row
    assert "interface=Gi1/0/48,direction=in   threshold=97*" in out and "interface=Gi1/0/48,direction=out  threshold=97*" in out
    assert "Gi1/0/1," not in out.split("Instances with their own settings:")[1]
    assert "more check(s) apply to a switch but read metrics this device does not report" in out


def test_without_overrides_the_defaults_apply(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _vigil(["checks", "--device", "a1/core-sw-1"], store) == 0
    out = capsys.readouterr().out
    assert "*" not in out.replace("(* overridden)", "") and "Instances with their own settings" not in out


def test_a_device_without_snmp_gets_no_trap_checks_and_says_when_nothing_reads_it(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _vigil(["checks", "--device", "edge-sw-9"], store) == 0
    out = capsys.readouterr().out
    assert "No check reads anything this device has reported yet." in out and "traps" not in out


def test_an_unknown_or_ambiguous_device_is_a_usage_error(store: str) -> None:
    with pytest.raises(UsageError, match="no device 'nope'"):
        _vigil(["checks", "--device", "nope"], store)
    with pytest.raises(UsageError, match="on several agents .*a1/core-sw-1.*a2/core-sw-1"):
        _vigil(["checks", "--device", "core-sw-1"], store)


def test_a_missing_store_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no store at"):
        _vigil(["checks", "--device", "x"], f"sqlite:///{tmp_path / 'none.db'}")
