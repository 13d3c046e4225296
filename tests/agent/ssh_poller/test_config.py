"""The SSH poller in the agent's config: opt-in per device, settings under pollers.ssh, registry and Hello."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent import pollers
from agent.buffer import DurableBuffer
from agent.config import load
from agent.configfile import ConfigError
from agent.pollers.ssh.poller import SshDevicePoller
from agent.runtime import hello_for


@pytest.fixture()
def fresh_shared() -> Iterator[None]:
    pollers._SHARED.pop("ssh_sessions", None)
    pollers._PRELOADED.pop("ssh_definitions", None)
    yield
    pollers._SHARED.pop("ssh_sessions", None)
    pollers._PRELOADED.pop("ssh_definitions", None)


CONFIG = """\
agent: {id: site-a, customer: acme, site: hq}
collector: {address: "127.0.0.1:4317", insecure: true}
state_dir: state
pollers:
  ssh: {interval: 2m, timeout: 30s, max_in_flight: 8, ignore_mounts: [/mnt/backup]}
ssh_credentials:
  ops: {username: vigil, password: s3cret-pass}
devices:
  - {id: web-1, kind: server, address: 10.0.0.5, platform: linux, ssh: {credentials: ops, poll: true}}
  - {id: core-1, kind: switch, address: 10.0.0.1, platform: huawei_vrp, ssh: {credentials: ops, poll: true, interval: 45s}}
  - {id: fw-1, kind: firewall, address: 10.0.0.2, platform: cisco_ios, ssh: {credentials: ops}}
"""


def test_devices_opt_in_and_get_a_poller_each(tmp_path: Path, fresh_shared: None) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(CONFIG)
    config = load(path)
    assert "ssh" in pollers.enabled_kinds(config)
    built = [p for p in pollers.build(config) if p.kind == "ssh"]
    assert [(p.device_id, p.interval_s) for p in built] == [("web-1", 120.0), ("core-1", 45.0)]  # fw-1: playbooks only
    assert all(isinstance(p, SshDevicePoller) for p in built)
    assert built[0].poll_timeout_s == 30.0
    assert "/mnt/backup" in built[0]._script
    outbox = DurableBuffer(tmp_path / "buffer", 1 << 20, 0)
    hello = hello_for(config, outbox)
    assert {d.id: list(d.pollers) for d in hello.devices if d.id != config.pollers.host.device_id} == {
        "web-1": ["ssh"], "core-1": ["ssh"], "fw-1": []}
    assert "s3cret-pass" not in str(hello)
    outbox.close()


def test_no_device_polled_over_ssh_loads_nothing_of_it(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(CONFIG.replace(", poll: true", ""))
    config = load(path)
    assert "ssh" not in pollers.enabled_kinds(config)
    assert "ssh_definitions" not in pollers.preload(config)


def test_a_broken_definitions_dir_stops_the_agent_naming_the_file(tmp_path: Path, fresh_shared: None) -> None:
    extra = tmp_path / "definitions"
    extra.mkdir()
    (extra / "huawei.yaml").write_text("platform: huawei_vrp\ncommands:\n  cpu:\n    command: display cpu-usage\n"
                                       "    template: huawei_vrp/display_cpu-usage.textfsm\n    metrics: []\n")
    path = tmp_path / "agent.yaml"
    path.write_text(CONFIG.replace("max_in_flight: 8", f"max_in_flight: 8, definitions_dir: {extra}"))
    with pytest.raises(ConfigError, match=r"huawei.yaml:\d+: commands.cpu: a command without metrics"):
        pollers.preload(load(path))
