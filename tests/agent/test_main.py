"""agent/main.py: the `vigil-agent` command line, run as the operator runs it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from agent import __version__

PROJECT = Path(__file__).resolve().parents[2]

GOOD = """\
agent:
  id: site-agent-1
  customer: acme
  site: hq
collector:
  address: 127.0.0.1:{port}
  insecure: true
state_dir: state
"""

BAD = GOOD + """\
devices:
  - id: sw1
    kind: switch
  - id: fw1
    kind: toaster
"""  # devices[1].kind is on line 13


def _agent(*args: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "VIGIL_AGENT_CONFIG"}
    return subprocess.run(
        [sys.executable, "-m", "agent.main", *args],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agent.yaml"
    path.write_text(text.format(port=_closed_port()), encoding="utf-8")
    return path


def _closed_port() -> int:
    """A local port nothing listens on, so the agent's connection is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_check_bad_config_exits_2_with_file_line_and_field(tmp_path: Path) -> None:
    path = _config(tmp_path, BAD)
    result = _agent("check", "-c", str(path))
    assert result.returncode == 2
    assert "invalid config" in result.stderr
    assert f"{path}:13: devices[1].kind: " in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""


def test_check_missing_file_exits_2_without_traceback(tmp_path: Path) -> None:
    result = _agent("check", "-c", str(tmp_path / "missing.yaml"))
    assert result.returncode == 2
    assert f"{tmp_path / 'missing.yaml'}: cannot read" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_good_config_exits_0_and_says_what_it_enables(tmp_path: Path) -> None:
    path = _config(tmp_path, GOOD)
    result = _agent("check", "-c", str(path))
    assert result.returncode == 0, result.stderr
    assert f"{path}: ok" in result.stdout
    assert "agent site-agent-1 (customer acme, site hq)" in result.stdout
    assert "(insecure)" in result.stdout
    assert "pollers: host; devices: 0" in result.stdout
    assert not (tmp_path / "state").exists()  # check only reads


def test_config_path_from_environment(tmp_path: Path) -> None:
    path = _config(tmp_path, GOOD)
    env = dict(os.environ, VIGIL_AGENT_CONFIG=str(path))
    result = subprocess.run(
        [sys.executable, "-m", "agent.main", "check"],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=30, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"{path}: ok" in result.stdout


def test_help_exits_0_and_lists_the_commands() -> None:
    result = _agent("--help")
    assert result.returncode == 0
    assert "run" in result.stdout and "check" in result.stdout
    assert "usage: vigil-agent" in result.stdout


def test_version() -> None:
    result = _agent("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"vigil-agent {__version__}"


def test_no_command_prints_help_and_exits_2() -> None:
    result = _agent()
    assert result.returncode == 2
    assert "usage: vigil-agent" in result.stdout
    assert "check" in result.stdout


def test_unknown_command_exits_2() -> None:
    result = _agent("frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_run_stops_cleanly_after_duration_without_a_collector(tmp_path: Path) -> None:
    path = _config(tmp_path, GOOD)
    started = time.monotonic()
    result = _agent("run", "-c", str(path), "--duration", "1")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert elapsed < 15
    assert "Traceback" not in result.stderr
    ran_s = _logged_at(result.stderr, "stopped:") - _logged_at(result.stderr, "starting")
    assert 0.9 <= ran_s < 10  # --duration honoured, and the stop is prompt
    assert (tmp_path / "state").is_dir()  # the state dir, relative to the config file


def test_run_with_a_corrupt_sequence_file_fails_naming_the_file(tmp_path: Path) -> None:
    path = _config(tmp_path, GOOD)
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "sequence").write_text("garbage\n")
    result = _agent("run", "-c", str(path), "--duration", "1")
    assert result.returncode == 1
    assert str(tmp_path / "state" / "sequence") in result.stderr


def test_run_without_pollers_does_not_silently_exit_at_once(tmp_path: Path) -> None:
    path = _config(tmp_path, GOOD + "pollers:\n  host:\n    enabled: false\n")
    result = _agent("run", "-c", str(path), "--duration", "1.5")
    if result.returncode != 0:
        return  # refusing to run without pollers would be a fix too
    # Measured from the agent's own log, so a slow interpreter start does not count.
    assert _logged_at(result.stderr, "starting") + 1.2 <= _logged_at(result.stderr, "stopped:")


def _logged_at(log: str, text: str) -> float:
    line = next(line for line in log.splitlines() if text in line)
    stamp = datetime.strptime(line.split(" ", 1)[0], "%Y-%m-%dT%H:%M:%S.%fZ")
    return stamp.timestamp()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc and /proc are Linux's")
def test_run_reexecutes_itself_once_with_a_fixed_mmap_threshold_and_without_pyyaml(tmp_path: Path) -> None:
    """agent/memory.py: same PID, same arguments, MALLOC_MMAP_THRESHOLD_ set; and PyYAML and ssl are not loaded."""
    path = _config(tmp_path, GOOD)
    env = {k: v for k, v in os.environ.items() if k not in ("VIGIL_AGENT_CONFIG", "MALLOC_MMAP_THRESHOLD_")}
    probe = "import sys, agent.main as m; r = m.main(); print('yaml' in sys.modules, sys.modules.get('ssl') is not None, flush=True); sys.exit(r)"
    process = subprocess.Popen(
        [sys.executable, "-c", probe, "run", "-c", str(path), "--duration", "1"],
        cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    environ = b""
    deadline = time.monotonic() + 10
    while b"MALLOC_MMAP_THRESHOLD_" not in environ and process.poll() is None and time.monotonic() < deadline:
        environ = Path(f"/proc/{process.pid}/environ").read_bytes()
        time.sleep(0.02)
    out, err = process.communicate(timeout=30)
    assert b"MALLOC_MMAP_THRESHOLD_=131072" in environ.split(b"\0"), err
    assert process.returncode == 0, err
    assert out.strip() == "False False"  # neither PyYAML nor Python's ssl stays in the running agent


def test_check_reports_a_broken_snmp_profile_with_its_file_and_line(tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "acme.yaml").write_text("name: acme\nmatch: {sysobjectid: [1.3.6.1.4.1.99999]}\nscalars:\n  x: {columns: {a: not-an-oid}}\n")
    path = _config(tmp_path, GOOD + f"""\
pollers:
  snmp:
    profiles_dir: {profiles}
devices:
  - id: sw1
    kind: switch
    address: 127.0.0.1
    snmp:
      community: public
""")
    result = _agent("check", "-c", str(path))
    assert result.returncode == 2, result.stdout
    assert f"{profiles / 'acme.yaml'}:4: " in result.stderr
    assert "Traceback" not in result.stderr
