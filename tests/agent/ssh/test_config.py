"""agent/config.py, the SSH parts: access per device, named credential groups, pinned keys, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent import config as agent_config
from agent.configfile import ConfigError
from agent.runtime import secrets_of

HEAD = """\
agent:
  id: site-agent-1
  customer: acme
  site: hq
collector:
  address: collector.example.net:4317
  insecure: true
"""
PINNED = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ0lRq0JgGj7lI3eTqk0S2ZlO8bn3XqC3VqJzHn0y6c"

GOOD = HEAD + f"""\
ssh_credentials:
  netops:
    username: netops
    password: Gr0up-Pass
    enable_secret: En4ble-Secret
  linux-keys:
    username: vigil
    private_key: keys/id_ed25519
    passphrase: Key-Phrase
devices:
  - id: core-1
    kind: switch
    address: 10.0.0.1
    platform: cisco_ios
    ssh:
      credentials: netops
      host_key: "{PINNED} root@core-1"
  - id: core-2
    kind: switch
    address: 10.0.0.2
    platform: huawei_vrp
    ssh:
      credentials: netops
      username: admin
      port: 2222
      timeout: 3s
      keepalive: 1m
  - id: db-1
    kind: server
    address: 10.0.1.5
    platform: linux
    ssh:
      credentials: linux-keys
  - id: web-1
    kind: server
    address: 10.0.1.6
    platform: linux
    ssh:
      username: root
      use_agent: true
  - id: agent-box
    kind: host
    platform: agent
"""


def _write(folder: Path, text: str) -> Path:
    path = folder / "agent.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        agent_config.load(_write(tmp_path, text))
    return str(caught.value)


def test_credentials_are_merged_and_paths_resolved(tmp_path: Path) -> None:
    config = agent_config.load(_write(tmp_path, GOOD))
    devices = {d.id: d for d in config.devices}
    core1, core2, db1, web1 = (devices[i].ssh for i in ("core-1", "core-2", "db-1", "web-1"))
    assert core1 is not None and core2 is not None and db1 is not None and web1 is not None
    assert (core1.username, core1.password, core1.enable_secret, core1.port) == ("netops", "Gr0up-Pass", "En4ble-Secret", 22)
    assert core1.host_key == PINNED                                  # comment dropped, key normalised
    assert (core2.username, core2.password, core2.port, core2.timeout, core2.keepalive) == (
        "admin", "Gr0up-Pass", 2222, 3.0, 60.0)                      # the device's own fields win
    assert db1.private_key == tmp_path / "keys" / "id_ed25519"       # relative to the config file
    assert db1.passphrase == "Key-Phrase" and db1.use_agent is None
    assert config.ssh_credentials["linux-keys"].private_key == tmp_path / "keys" / "id_ed25519"
    assert web1.use_agent is True and web1.timeout == 10.0 and web1.keepalive == 30.0
    assert devices["agent-box"].ssh is None


def test_isolated_load_gives_the_same_ssh_settings(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    assert agent_config.load_isolated(path) == agent_config.load(path)


def test_every_ssh_secret_is_registered_for_redaction(tmp_path: Path) -> None:
    config = agent_config.load(_write(tmp_path, GOOD))
    assert {"Gr0up-Pass", "En4ble-Secret", "Key-Phrase"} <= set(secrets_of(config))


def test_unknown_credentials_name_is_reported_with_the_device_field(tmp_path: Path) -> None:
    text = GOOD.replace("credentials: linux-keys", "credentials: linux-key")
    assert "devices[2].ssh.credentials: no ssh_credentials entry named 'linux-key' (linux-keys, netops)" in _error(
        tmp_path, text)


def test_group_without_a_way_to_log_in_is_reported(tmp_path: Path) -> None:
    text = GOOD.replace("    password: Gr0up-Pass\n", "")
    assert "devices[0].ssh (with credentials 'netops'): SSH needs a password, a private_key or use_agent: true" in _error(
        tmp_path, text)


def test_device_without_username_is_reported_at_its_line(tmp_path: Path) -> None:
    text = GOOD.replace("      username: root\n", "")
    error = _error(tmp_path, text)
    assert "agent.yaml:46: devices[3].ssh: SSH needs a username" in error


@pytest.mark.parametrize("key", ["ssh-ed25519", "ssh-ed25519 not-base64!", "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIGJ0"])
def test_bad_pinned_host_key_is_reported_at_its_line(tmp_path: Path, key: str) -> None:
    error = _error(tmp_path, GOOD.replace(f'"{PINNED} root@core-1"', f'"{key}"'))
    assert "agent.yaml:24: devices[0].ssh.host_key:" in error and "public host key" in error


def test_ssh_needs_an_address_and_a_known_platform(tmp_path: Path) -> None:
    error = _error(tmp_path, GOOD.replace("    platform: huawei_vrp\n", "    platform: junos\n"))
    assert "devices[1]: a device reached over SSH needs its platform: one of linux, cisco_ios, huawei_vrp, hp_comware (not 'junos')" in error
    error = _error(tmp_path, GOOD.replace("    address: 10.0.1.6\n", ""))
    assert "devices[3]: a device reached over SSH needs an address" in error


def test_typo_in_ssh_settings_is_refused(tmp_path: Path) -> None:
    error = _error(tmp_path, GOOD.replace("      keepalive: 1m", "      keepalive_interval: 1m"))
    assert "devices[1].ssh.keepalive_interval: unknown setting (misspelt?)" in error
