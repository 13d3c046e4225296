"""CLI polling of fakenos network devices over SSH: the SNMP profiles' metric names, from show/display commands."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent.config import SshPoller
from agent.pollers.snmp.profiles import load_profiles
from agent.pollers.ssh.model import load_definitions
from agent.pollers.ssh.poller import SshDevicePoller
from agent.samples import Poll
from agent.ssh.pool import SessionPool
from tests.peers.fakenos import FakeNos

pytestmark = pytest.mark.integration


def _snmp_names(profile: str) -> set[str]:
    chosen = load_profiles().profiles[profile]
    return {m.metric for group in [*chosen.scalars.values(), *chosen.tables.values()] for m in group.metrics}


def _poll_twice(fakenos: FakeNos, name: str, tmp_path: Path) -> tuple[Poll, SshDevicePoller]:
    device = fakenos.device(name, poll=True)
    definition = load_definitions()[device.platform]

    async def main() -> tuple[Poll, SshDevicePoller]:
        async with SessionPool({name: device}, tmp_path) as pool:
            poller = SshDevicePoller(device, pool, SshPoller(timeout=60), asyncio.Semaphore(1), definition)
            await poller.poll()
            await asyncio.sleep(0.5)
            return await poller.poll(), poller

    return asyncio.run(main())


def _by_name(poll: Poll) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for name, labels, value in poll.samples:
        out.setdefault(name, {})[labels] = value
    return out


def test_cisco_ios_cli_poll_yields_the_cisco_profiles_metrics(fakenos: FakeNos, tmp_path: Path) -> None:
    poll, poller = _poll_twice(fakenos, "cisco_ios-1", tmp_path)
    got = _by_name(poll)
    snmp = _snmp_names("cisco")
    assert {"cpu_usage_percent", "mem_used_percent", "mem_total_bytes", "mem_used_bytes", "net_recv_bits_per_second",
            "net_oper_up", "sensors_fan_ok", "sensors_power_supply_ok"} <= set(got)
    assert set(got) <= snmp                         # nothing the SNMP profile would not call the same
    assert got["cpu_usage_percent"] == {(("cpu", "1"),): 5.0}
    assert got["mem_used_bytes"][(("pool", "Processor"),)] == 104233892.0
    te = (("alias", "vss"), ("interface", "Te1/1/1"))    # IF-MIB ifName form, description as alias
    assert got["net_oper_up"][te] == 1.0 and got["net_speed_bits_per_second"][te] == 1e10
    assert got["net_recv_bits_per_second"][te] == 0.0   # fakenos' counters stand still
    assert [command for command, _, _ in poller.last_commands] == [
        "show processes cpu sorted", "show memory statistics", "show environment all", "show interfaces"]


def test_huawei_vrp_cli_poll_yields_the_huawei_profiles_metrics(fakenos: FakeNos, tmp_path: Path) -> None:
    poll, _ = _poll_twice(fakenos, "huawei_vrp-1", tmp_path)
    got = _by_name(poll)
    snmp = _snmp_names("huawei") | _snmp_names("cisco")      # bytes of memory: Cisco's names for them
    assert {"cpu_usage_percent", "mem_used_percent", "sensors_temperature_celsius", "sensors_fan_ok",
            "sensors_power_supply_ok", "net_recv_bits_per_second", "net_oper_up", "net_admin_up"} <= set(got)
    assert set(got) <= snmp
    assert got["cpu_usage_percent"] == {(("cpu", "0"),): 12.0}
    assert got["mem_used_percent"] == {(("entity", "0"),): 43.0}
    assert got["sensors_temperature_celsius"][(("chip", "huawei-entity"), ("sensor", "slot 0"))] == 37.0
    up = (("alias", "HUAWEI, AR Series, GigabitEthernet0/0/2 Interface"), ("interface", "GigabitEthernet0/0/2"))
    assert got["net_oper_up"][up] == 1.0 and got["net_speed_bits_per_second"][up] == 1e9
    assert got["net_recv_packets_per_second"][up] == 0.0


# hp_comware is checked on recorded output only (test_definitions.py): netmiko runs Comware without
# command-echo verification, and fakenos' Comware prompt (`name>`, not `<name>`) leaves a stale
# prompt that ends netmiko's next read early, so live polls of it shift by one command.
