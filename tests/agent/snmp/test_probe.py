"""`vigil-agent snmp probe`: what a field engineer runs before adding a device, against the real snmpd."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.peers.snmp import Snmpd

PROJECT = Path(__file__).resolve().parents[3]


def _probe(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent.main", "snmp", "probe", *args],
        cwd=PROJECT, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=60, check=False,
    )


def test_probe_prints_the_profile_interfaces_and_metrics(snmpd: Snmpd) -> None:
    result = _probe("127.0.0.1", "--port", str(snmpd.port), "--community", snmpd.community, "--rates", "0.5")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "sysObjectID  1.3.6.1.4.1.8072.3.2.10" in out
    assert "profile      net-snmp" in out
    interfaces = out.split("INTERFACES (", 1)[1].split("\n\n", 1)[0]
    assert "\nlo " in interfaces and " up " in interfaces
    assert "net_recv_bits_per_second" in out  # the second poll turned counters into rates
    assert "mem_total_bytes" in out and "snmp_uptime_seconds" in out
    assert snmpd.community not in out + result.stderr


def test_probe_over_v3_takes_its_keys_from_the_environment(snmpd: Snmpd) -> None:
    user = snmpd.users["authpriv-sha256-aes256"]
    result = _probe(
        "127.0.0.1", "--port", str(snmpd.port), "--version", "3", "--user", user.name,
        "--auth-protocol", user.auth_protocol, "--priv-protocol", user.priv_protocol,
        env={"VIGIL_SNMP_AUTH_KEY": user.auth_key, "VIGIL_SNMP_PRIV_KEY": user.priv_key},
    )
    assert result.returncode == 0, result.stderr
    assert "(SNMP v3)" in result.stdout and "profile      net-snmp" in result.stdout


def test_a_wrong_community_is_a_clear_timeout_without_the_secret(snmpd: Snmpd) -> None:
    result = _probe("127.0.0.1", "--port", str(snmpd.port), "--community", "not-the-one", "--timeout", "0.3", "--retries", "0")
    assert result.returncode == 1
    assert f"127.0.0.1:{snmpd.port} (SNMP v2c)" in result.stderr and "(timeout)" in result.stderr
    assert "not-the-one" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_v3_without_a_user_is_a_usage_error() -> None:
    result = _probe("127.0.0.1", "--version", "3")
    assert result.returncode == 2 and "--version 3 needs --user" in result.stderr
