"""`vigil-agent ssh probe`: what a field engineer runs before adding a device, against the real sshd and fakenos."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.peers.fakenos import FakeNos
from tests.peers.sshd import Sshd

pytestmark = pytest.mark.integration


def _probe(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agent.main", "ssh", "probe", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


def test_probe_a_linux_server(sshd: Sshd) -> None:
    result = _probe(sshd.host, "--port", str(sshd.port), "--user", sshd.username, "--key", str(sshd.client_key),
                    "--rates", "0.5")
    assert result.returncode == 0, result.stderr
    assert "host key     ssh-ed25519 SHA256:" in result.stdout
    assert "linux poll script" in result.stdout
    for metric in ("mem_total_bytes", "disk_total_bytes", "cpu_usage_percent", "system_load1"):
        assert metric in result.stdout


def test_probe_a_huawei_switch_with_the_password_from_the_environment(fakenos: FakeNos) -> None:
    result = _probe(fakenos.host, "--port", str(fakenos.ports["huawei_vrp-1"]), "--platform", "huawei_vrp",
                    "--user", fakenos.username, "--password-env", "PROBE_PASSWORD",
                    env={"PROBE_PASSWORD": fakenos.password})
    assert result.returncode == 0, result.stderr
    assert "display interface" in result.stdout and "INTERFACES (6)" in result.stdout
    assert "cpu_usage_percent" in result.stdout and "sensors_fan_ok" in result.stdout
    assert fakenos.password not in result.stdout + result.stderr


def test_probe_says_why_it_failed(sshd: Sshd) -> None:
    result = _probe(sshd.host, "--port", str(sshd.port), "--user", sshd.username, "--password-env", "NOPE",
                    env={"NOPE": "wrong"})
    assert result.returncode == 1
    assert "(auth)" in result.stderr
    result = _probe(sshd.host, "--password-env", "UNSET_VARIABLE_FOR_THE_PROBE")
    assert result.returncode == 2 and "no such environment variable" in result.stderr
