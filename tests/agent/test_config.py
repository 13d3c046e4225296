"""agent/config.py: the agent's YAML config, its defaults, paths and refusals."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

from agent import config as agent_config
from agent.configfile import ConfigError

REPO = Path(__file__).resolve().parents[2]

# Line numbers below count from this text: collector is on line 5, its address on 6.
MINIMAL = """\
agent:
  id: site-agent-1
  customer: acme
  site: hq
collector:
  address: collector.example.net:4317
  insecure: true
"""

TLS = """\
agent:
  id: site-agent-1
  customer: acme
  site: hq
collector:
  address: collector.example.net:4317
  tls:
    ca: certs/ca.pem
    cert: certs/agent.pem
    key: /etc/vigil/agent.key
    server_name: collector.internal
state_dir: state
"""


def _write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "agent.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        agent_config.load(path)
    return str(caught.value)


def test_minimal_config_loads_with_defaults(tmp_path: Path) -> None:
    config = agent_config.load(_write(tmp_path, MINIMAL))
    assert config.agent.id == "site-agent-1"
    assert (config.agent.customer, config.agent.site) == ("acme", "hq")
    assert config.collector.address == "collector.example.net:4317"
    assert config.collector.insecure is True and config.collector.tls is None
    assert config.collector.compression == "gzip"
    assert config.collector.keepalive == 30.0
    assert config.state_dir == Path("/var/lib/vigil-agent")  # absolute: left alone
    assert config.pollers.host.enabled is True
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", config.pollers.host.device_id)
    assert config.pollers.host.ignore_interfaces == ("lo",)
    assert config.batching.max_points == 5000
    assert config.devices == ()
    assert config.max_message_bytes == 4 * 1024 * 1024


def test_durations_and_sizes_with_units(tmp_path: Path) -> None:
    text = MINIMAL + (
        "  keepalive: 1m\n"
        "  reconnect:\n    initial: 500ms\n    max: 2m\n"
        "batching:\n  max_delay: 250ms\n"
        "pollers:\n  host:\n    interval: 10s\n    timeout: 5s\n"
        "max_message_bytes: 8MiB\n"
    )
    config = agent_config.load(_write(tmp_path, text))
    assert config.collector.keepalive == 60.0
    assert config.collector.reconnect.initial == pytest.approx(0.5)
    assert config.collector.reconnect.max == 120.0
    assert config.batching.max_delay == pytest.approx(0.25)
    assert (config.pollers.host.interval, config.pollers.host.timeout) == (10.0, 5.0)
    assert config.max_message_bytes == 8 * 1024 * 1024


def test_paths_are_relative_to_the_config_file_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path / "conf", TLS)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = agent_config.load(Path("..") / "conf" / "agent.yaml")
    folder = (tmp_path / "conf").resolve()
    assert config.state_dir == folder / "state"
    tls = config.collector.tls
    assert tls is not None
    assert tls.ca == folder / "certs" / "ca.pem"
    assert tls.cert == folder / "certs" / "agent.pem"
    assert tls.key == Path("/etc/vigil/agent.key")  # absolute: left alone
    assert tls.server_name == "collector.internal"  # not a path: left alone


def test_tls_without_client_certificate(tmp_path: Path) -> None:
    text = MINIMAL.replace("  insecure: true\n", "  tls:\n    ca: ca.pem\n")
    config = agent_config.load(_write(tmp_path, text))
    assert config.collector.tls is not None
    assert config.collector.tls.ca == tmp_path.resolve() / "ca.pem"
    assert config.collector.tls.cert is None and config.collector.tls.key is None


def test_collector_without_tls_or_insecure_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL.replace("  insecure: true\n", ""))
    message = _error(path)
    assert re.match(rf"{re.escape(str(path))}:\d+: collector: give tls", message)
    assert "insecure: true" in message


def test_insecure_false_is_the_same_as_missing(tmp_path: Path) -> None:
    message = _error(_write(tmp_path, MINIMAL.replace("insecure: true", "insecure: false")))
    assert "collector: give tls" in message


def test_tls_and_insecure_together_are_refused(tmp_path: Path) -> None:
    text = MINIMAL + "  tls:\n    ca: ca.pem\n"
    message = _error(_write(tmp_path, text))
    assert "collector: tls and insecure: true contradict each other" in message


@pytest.mark.parametrize("given", ["cert: agent.pem", "key: agent.key"])
def test_cert_without_key_or_key_without_cert_is_refused(tmp_path: Path, given: str) -> None:
    text = MINIMAL.replace("  insecure: true\n", f"  tls:\n    ca: ca.pem\n    {given}\n")
    path = _write(tmp_path, text)
    message = _error(path)
    assert re.match(rf"{re.escape(str(path))}:\d+: collector.tls: give both cert and key", message)


@pytest.mark.parametrize(
    "address", ["nohost", "host:99999", "host:0", ":4317", "host:port", "host:", "host:-1"]
)
def test_bad_collector_address_is_refused_at_its_line(tmp_path: Path, address: str) -> None:
    path = _write(tmp_path, MINIMAL.replace("collector.example.net:4317", f'"{address}"'))
    message = _error(path)
    assert message.startswith(f"{path}:6: collector.address: ")
    assert "is not host:port" in message


@pytest.mark.parametrize("address", ["10.0.0.5:4317", "[::1]:4317", "collector:1", "c.example:65535"])
def test_good_collector_addresses(tmp_path: Path, address: str) -> None:
    config = agent_config.load(_write(tmp_path, MINIMAL.replace("collector.example.net:4317", f'"{address}"')))
    assert config.collector.address == address


DEVICES = MINIMAL + """\
devices:
  - id: sw1
    kind: switch
    address: 10.0.0.2
    labels: {rack: r12}
  - id: fw1
    kind: toaster
"""


def test_devices_load(tmp_path: Path) -> None:
    config = agent_config.load(_write(tmp_path, DEVICES.replace("toaster", "firewall")))
    assert [d.id for d in config.devices] == ["sw1", "fw1"]
    assert config.devices[0].labels == {"rack": "r12"}
    assert config.devices[1].kind == "firewall"


def test_bad_device_kind_is_reported_at_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, DEVICES)
    message = _error(path)
    assert message.startswith(f"{path}:14: devices[1].kind: Input should be ")
    assert "'switch'" in message


def test_duplicate_device_ids_are_refused(tmp_path: Path) -> None:
    text = DEVICES.replace("id: fw1", "id: sw1").replace("toaster", "firewall")
    assert "device id 'sw1' is given twice" in _error(_write(tmp_path, text))


def test_device_id_equal_to_the_host_pollers_is_refused(tmp_path: Path) -> None:
    text = DEVICES.replace("toaster", "firewall") + "pollers:\n  host:\n    device_id: sw1\n"
    assert "device id 'sw1' is the host poller's device_id" in _error(_write(tmp_path, text))


def test_host_device_id_stays_reserved_when_the_host_poller_is_off(tmp_path: Path) -> None:
    """The agent's machine is always announced (its buffer status is reported on it)."""
    text = DEVICES.replace("toaster", "firewall") + "pollers:\n  host:\n    enabled: false\n    device_id: sw1\n"
    assert "device id 'sw1' is the host poller's device_id; pick another" in _error(_write(tmp_path, text))


@pytest.mark.parametrize("bad", ["-leading", "has space", "", "x" * 65, "a/b", "ünï", ".hidden"])
def test_bad_ids_are_refused(tmp_path: Path, bad: str) -> None:
    agent_path = _write(tmp_path / "agent", MINIMAL.replace("site-agent-1", f'"{bad}"'))
    assert f"{agent_path}:2: agent.id: {bad!r} is not a usable id" in _error(agent_path)
    device_text = DEVICES.replace("id: sw1", f'id: "{bad}"').replace("toaster", "firewall")
    device_path = _write(tmp_path / "device", device_text)
    assert f"{device_path}:9: devices[0].id: {bad!r} is not a usable id" in _error(device_path)


@pytest.mark.parametrize("good", ["a", "sw-01.lab_2", "X" * 64, "9lives"])
def test_good_ids_are_accepted(tmp_path: Path, good: str) -> None:
    assert agent_config.load(_write(tmp_path, MINIMAL.replace("site-agent-1", good))).agent.id == good


def test_an_id_with_a_trailing_newline_is_refused(tmp_path: Path) -> None:
    text = MINIMAL.replace("  id: site-agent-1\n", "  id: |\n    site-agent-1\n")
    assert "is not a usable id" in _error(_write(tmp_path, text))


def test_typo_in_a_nested_key_is_refused_with_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL + "pollers:\n  host:\n    intervall: 10s\n")
    assert _error(path) == f"{path}:10: pollers.host.intervall: unknown setting (misspelt?)"


def test_interval_below_100ms_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL + "pollers:\n  host:\n    interval: 50ms\n")
    assert _error(path).startswith(f"{path}:10: pollers.host.interval: an interval below 100ms")


def test_bad_log_level_and_bad_size_are_both_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL + "log_level: chatty\nmax_message_bytes: huge\n")
    problems = _error(path).splitlines()
    assert len(problems) == 2
    assert problems[0].startswith(f"{path}:8: log_level: ")
    assert problems[1].startswith(f"{path}:9: max_message_bytes: 'huge' is not a size")


def test_config_is_frozen(tmp_path: Path) -> None:
    config = agent_config.load(_write(tmp_path, MINIMAL))
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.log_level = "debug"  # type: ignore[misc]


def test_isolated_load_gives_the_same_config_and_errors(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL)
    assert agent_config.load_isolated(path) == agent_config.load(path)
    bad = _write(tmp_path, MINIMAL + "log_level: chatty\n")
    with pytest.raises(ConfigError) as isolated:
        agent_config.load_isolated(bad)
    with pytest.raises(ConfigError) as here:
        agent_config.load(bad)
    assert str(isolated.value) == str(here.value)


def test_isolated_load_keeps_pydantic_out_of_the_process(tmp_path: Path) -> None:
    """The running agent's RSS budget has no room for pydantic (~14 MiB)."""
    path = _write(tmp_path, MINIMAL)
    script = (
        "import sys; from agent.config import load_isolated; "
        f"c = load_isolated({str(path)!r}); "
        "assert 'pydantic' not in sys.modules and 'pydantic_core' not in sys.modules, 'pydantic was imported'; "
        "print(c.agent.id)"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "site-agent-1"
