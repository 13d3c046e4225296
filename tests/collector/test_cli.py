"""The engineer's CLI: readable tables, helpful errors without tracebacks."""

from __future__ import annotations

import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from collector.cli import table
from collector.cli.main import main
from collector.store import database, registry
from collector.store.writer import MetricWriter
from protos.vigil.v1 import agent_pb2 as pb
from tests.collector.store.helpers import T0, batch, hello

REPO = Path(__file__).resolve().parents[2]


def test_table_aligns_wide_characters() -> None:
    text = table.render(["NAME", "N"], [["核心交换机", "1"], ["sw", "22"]], right=(1,))
    lines = text.splitlines()
    assert [table.width(line) for line in lines[2:]] == [table.width(lines[2])] * 2
    assert lines[2].endswith(" 1") and lines[3].endswith("22")


@pytest.mark.parametrize(
    ("metric", "value", "shown"),
    [
        ("mem_used_bytes", 3 * 1024**3, "3.0 GiB"),
        ("disk_used_percent", 12.345, "12.3 %"),
        ("net_recv_bits_per_second", 2_500_000, "2.5 Mbit/s"),
        ("diskio_read_bytes_per_second", 2048, "2.0 KiB/s"),
        ("system_uptime_seconds", 90061, "1d 1h 1m"),
        ("vigil_poll_duration_seconds", 0.0025, "2.5 ms"),
        ("processes_total", 70, "70"),
        ("sensors_temperature_celsius", 41.25, "41.2 °C"),
    ],
)
def test_values_are_shown_in_their_unit(metric: str, value: float, shown: str) -> None:
    assert table.value(metric, value) == shown


def _store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    engine = database.open_store(url)
    registry.register(engine, hello("a1", "sw1"), "peer", T0)
    registry.register(engine, hello("a2", "sw1"), "peer", T0)
    writer = MetricWriter(engine)
    writer.write([batch("a1", 1, [("sw1", "cpu_usage_percent", {}, [T0, T0 + 1000], [10.0, 30.0])])], T0)
    engine.dispose()
    return url


def test_metrics_of_an_ambiguous_device_asks_which(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = _store(tmp_path)
    assert main(["--db", url, "metrics", "sw1"]) == 2
    assert "is on several agents (a1/sw1, a2/sw1)" in capsys.readouterr().err
    assert main(["--db", url, "metrics", "a1/sw1", "--since", "3650d"]) == 0
    out = capsys.readouterr().out
    assert "cpu_usage_percent" in out and "30.0 %" in out and "20.0 %" in out  # last and avg
    assert main(["--db", url, "metrics", "nope"]) == 2
    assert "no device 'nope'" in capsys.readouterr().err


def test_agents_and_devices_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = _store(tmp_path)
    assert main(["--db", url, "agents"]) == 0
    out = capsys.readouterr().out
    assert "a1" in out and "客户A" in out and "connected" in out
    assert main(["--db", url, "devices", "--agent", "a2"]) == 0
    out = capsys.readouterr().out
    assert "a2" in out and "a1 " not in out


@pytest.mark.parametrize(("create", "message"), [(True, "is not a Vigil store"), (False, "no store at")])
def test_not_a_store_is_a_clear_error(tmp_path: Path, create: bool, message: str) -> None:
    path = tmp_path / "empty.db"
    if create:
        path.touch()
    result = subprocess.run(
        [sys.executable, "-m", "collector.cli.main", "--db", f"sqlite:///{path}", "agents"],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert path.exists() == create, "reading must not create a store"


def test_certs_init_and_agent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pki = tmp_path / "pki"
    assert main(["certs", "agent", "--dir", str(pki), "a9"]) == 2
    assert "run `vigil certs init" in capsys.readouterr().err
    assert main(["certs", "init", "--dir", str(pki), "--agent", "a1"]) == 0
    assert (pki / "collector.pem").exists() and (pki / "agents" / "a1.pem").exists()
    assert stat.S_IMODE((pki / "ca.key").stat().st_mode) == 0o600
    assert main(["certs", "init", "--dir", str(pki)]) == 2  # never overwrite a CA by accident
    assert main(["certs", "agent", "--dir", str(pki), "a2"]) == 0
    from cryptography import x509

    cert = x509.load_pem_x509_certificate((pki / "agents" / "a2.pem").read_bytes())
    assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "a2"


def test_events_newest_first_filtered_by_severity_and_device(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    engine = database.open_store(url)
    registry.register(engine, hello("a1", "sw1", "ups1"), "peer", T0)
    now = int(time.time() * 1000)
    events = [
        pb.Event(device="sw1", at_ms=now - 60_000, source="snmp_trap", name="link_down", severity="major", message="ge0/1 down"),
        pb.Event(device="ups1", at_ms=now - 30_000, source="snmp_trap", name="ups_on_battery", severity="critical",
                 message="UPS 市电中断, on battery"),
        pb.Event(device="", at_ms=now - 7 * 86_400_000, source="snmp_trap", name="cold_start", severity="warning", message="old"),
    ]
    MetricWriter(engine).write([batch("a1", 1, [], events, now_ms=now)], now)
    engine.dispose()

    assert main(["--db", url, "events"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["TIME", "(UTC)", "SEVERITY", "CUSTOMER"]
    assert "ups_on_battery" in lines[2] and "UPS 市电中断, on battery" in lines[2]  # newest first
    assert "link_down" in lines[3] and len(lines) == 4  # the week-old one is outside the default day
    assert main(["--db", url, "events", "--severity", "critical"]) == 0
    assert "link_down" not in capsys.readouterr().out
    assert main(["--db", url, "events", "--device", "sw1", "--since", "30d"]) == 0
    assert "ups_on_battery" not in capsys.readouterr().out
    assert main(["--db", url, "events", "--since", "30d", "--device", "nope"]) == 0
    assert "No events in the last 30d 0h 0m." in capsys.readouterr().out


def test_help_lists_the_commands() -> None:
    result = subprocess.run([sys.executable, "-m", "collector.cli.main", "--help"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 0
    for command in ("agents", "devices", "metrics", "events", "certs", "demo"):
        assert command in result.stdout
