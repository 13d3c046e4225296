"""agent/pollers/snmp/poller.py: profile detection and samples from real peers (snmpd, snmpsim recordings)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from pysnmp.entity.engine import SnmpEngine

from agent.config import Device, SnmpAccess, SnmpPoller, load
from agent.pollers import build
from agent.pollers.snmp.client import SnmpClient
from agent.pollers.snmp.poller import SnmpDevicePoller
from agent.pollers.snmp.profiles import ProfileSet, load_profiles
from agent.pollers.snmp.types import SnmpTimeout, Tag
from agent.samples import Poll
from agent.scheduler import Scheduler
from tests.peers.snmp import Snmpd, Snmpsim, free_udp_port


@pytest.fixture(scope="module")
def profiles() -> ProfileSet:
    return load_profiles()


def _poller(access: SnmpAccess, profiles: ProfileSet, device_id: str = "dev1") -> SnmpDevicePoller:
    device = Device(id=device_id, kind="switch", address="127.0.0.1", snmp=access)
    client = SnmpClient.for_device(SnmpEngine(), "127.0.0.1", access, SnmpPoller())
    return SnmpDevicePoller(device, client, profiles, SnmpPoller(), asyncio.Semaphore(4))


def _values(poll: Poll, metric: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {labels: value for name, labels, value in poll.samples if name == metric}


def _one(poll: Poll, metric: str, **labels: str) -> float:
    wanted = tuple(sorted(labels.items()))
    matches = [value for labels_, value in _values(poll, metric).items() if all(p in labels_ for p in wanted)]
    assert len(matches) == 1, (metric, labels, _values(poll, metric))
    return matches[0]


@pytest.mark.parametrize(("version", "user"), [("2c", ""), ("3", "authpriv-sha256-aes256")])
def test_snmpd_is_polled_as_a_net_snmp_server_and_agrees_with_snmpget(
    snmpd: Snmpd, profiles: ProfileSet, version: str, user: str
) -> None:
    poller = _poller(snmpd.access(version, user), profiles)
    poll = asyncio.run(poller.poll())
    assert poller.identity is not None and poller.identity.profile.name == "net-snmp"
    assert _one(poll, "snmp_profile_info") == 1.0

    # Interface names: the same set net-snmp's own snmpbulkwalk reads from ifName.
    walked = snmpd.snmpbulkwalk(snmpd.access(), (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1))
    names = {value.decode() if isinstance(value, bytes) else str(value) for _, _, value in walked}
    assert {dict(labels)["interface"] for labels in _values(poll, "net_oper_up")} == names
    # Memory (UCD-SNMP-MIB memTotalReal, KiB) and the root filesystem (HOST-RESOURCES-MIB hrStorage).
    ((_, tag, total_kib),) = snmpd.snmpget(snmpd.access(), [(1, 3, 6, 1, 4, 1, 2021, 4, 5, 0)])
    assert tag == Tag.INTEGER and _one(poll, "mem_total_bytes") == total_kib * 1024
    storage = {oid[-1]: value for oid, _, value in snmpd.snmpbulkwalk(snmpd.access(), (1, 3, 6, 1, 2, 1, 25, 2, 3, 1))
               if oid[-2] in (3, 4, 5)}
    descr = {oid[-1]: value for oid, _, value in snmpd.snmpbulkwalk(snmpd.access(), (1, 3, 6, 1, 2, 1, 25, 2, 3, 1, 3))}
    root = next(index for index, value in descr.items() if value in (b"/", "/"))
    units, size = (v for oid, _, v in snmpd.snmpget(snmpd.access(), [(1, 3, 6, 1, 2, 1, 25, 2, 3, 1, 4, root),
                                                                     (1, 3, 6, 1, 2, 1, 25, 2, 3, 1, 5, root)]))
    assert _one(poll, "disk_total_bytes", path="/") == units * size
    assert storage  # the table was there to compare with
    assert 0 <= _one(poll, "system_load1") < 1000


@pytest.mark.parametrize(
    ("community", "profile", "metric"),
    [
        ("cisco-c3560", "cisco", "cpu_usage_percent"),
        ("linux-net-snmp", "net-snmp", "mem_used_percent"),
        ("eaton-93e-ups", "ups", "ups_battery_charge_percent"),
        ("huawei-s5720", "huawei", "cpu_usage_percent"),
        ("h3c-comware7", "h3c", "cpu_usage_percent"),
    ],
)
def test_recorded_devices_get_their_vendor_profile(
    snmpsim: Snmpsim, profiles: ProfileSet, community: str, profile: str, metric: str
) -> None:
    poller = _poller(snmpsim.access(community), profiles)
    poll = asyncio.run(poller.poll())
    assert poller.identity is not None and poller.identity.profile.name == profile
    values = _values(poll, metric)
    assert values and all(0 <= v <= 100 for v in values.values()), values
    assert _values(poll, "net_oper_up") or profile == "ups"
    assert _one(poll, "snmp_bad_values") == 0


def _poll_twice(snmpsim: Snmpsim, profiles: ProfileSet, before: str, after: str) -> tuple[Poll, Poll]:
    """Poll the `before` recording, then the `after` one as the same device's next answer."""
    poller = _poller(snmpsim.access(before), profiles)
    first = asyncio.run(poller.poll())
    time.sleep(0.05)
    # The second answer is served under another community: swap the client, keep the counter state.
    poller._client = SnmpClient.for_device(SnmpEngine(), "127.0.0.1", snmpsim.access(after), SnmpPoller())
    return first, asyncio.run(poller.poll())


def test_counters_that_wrap_give_the_true_rate(snmpsim: Snmpsim, profiles: ProfileSet) -> None:
    first, second = _poll_twice(snmpsim, profiles, "counter-wrap-before", "counter-wrap-after")
    assert not _values(first, "net_recv_bits_per_second")  # a first reading gives no rate
    elapsed_s = (second.ts_ms - first.ts_ms) / 1000
    for interface, rate in _values(second, "net_recv_bits_per_second").items():
        # Every counter moved by exactly 1000 octets (interface 1 through a 64-bit wrap).
        assert rate == pytest.approx(8000 / elapsed_s, rel=0.02), interface


def test_no_rate_spans_a_reboot(snmpsim: Snmpsim, profiles: ProfileSet) -> None:
    first, second = _poll_twice(snmpsim, profiles, "reboot-before", "reboot-after")
    assert _one(second, "snmp_uptime_seconds") == 60.0
    assert not _values(second, "net_recv_bits_per_second")
    rates = [name for name, _, _ in second.samples if name.endswith("_per_second") and name != "net_speed_bits_per_second"]
    assert rates == []


def test_an_unreachable_device_is_up_0_with_kind_timeout(profiles: ProfileSet) -> None:
    access = SnmpAccess(version="2c", community="public", port=free_udp_port(), timeout=0.2, retries=0)
    poller = _poller(access, profiles, "gone")
    with pytest.raises(SnmpTimeout):
        asyncio.run(poller.poll())

    polls: list[Poll] = []

    async def one_tick() -> None:
        scheduler = Scheduler([poller], polls.append, jitter=0)
        task = asyncio.create_task(scheduler.run())
        while not polls:
            await asyncio.sleep(0.05)
        task.cancel()

    asyncio.run(asyncio.wait_for(one_tick(), 10))
    assert _one(polls[0], "vigil_poll_up", poller="snmp") == 0.0
    assert _one(polls[0], "vigil_poll_error_info", kind="timeout") == 1.0


def test_the_registry_builds_one_poller_per_snmp_device_sharing_a_gate(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(
        "agent: {id: a, customer: c, site: s}\n"
        "collector: {address: '127.0.0.1:1', insecure: true}\n"
        "pollers: {host: {enabled: false}, snmp: {max_in_flight: 2}}\n"
        "devices:\n"
        "  - {id: sw1, kind: switch, address: 127.0.0.1, snmp: {community: public, interval: 30s}}\n"
        "  - {id: ups1, kind: ups, address: 127.0.0.1, snmp: {community: public}}\n"
        "  - {id: fw1, kind: firewall, address: 127.0.0.1}\n"
    )
    found = build(load(path))
    assert [(p.kind, p.device_id, p.interval_s) for p in found] == [("snmp", "sw1", 30.0), ("snmp", "ups1", 60.0)]
    assert found[0].timeout_s == 27.0
    assert found[0]._gate is found[1]._gate  # type: ignore[attr-defined]


def test_after_one_full_walk_only_the_columns_that_answer_are_walked(snmpsim: Snmpsim, profiles: ProfileSet) -> None:
    hc_in, in_32 = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6), (1, 3, 6, 1, 2, 1, 2, 2, 1, 10)
    poller = _poller(snmpsim.access("switch-000"), profiles)
    plans: list[set[tuple[int, ...]]] = []

    async def two_polls() -> tuple[Poll, Poll]:  # one event loop, as in the agent: pysnmp's socket belongs to it
        first = await poller.poll()
        plans.append({oid for columns in (poller._walks or {}).values() for oid in columns})
        return first, await poller.poll()

    first, second = asyncio.run(two_polls())
    full = {oid for columns in poller.identity.profile.walks.values() for oid in columns}  # type: ignore[union-attr]
    assert plans[0] < full
    assert hc_in in plans[0] and in_32 not in plans[0]  # every port answers ifHCInOctets: its fallback is dropped
    series = lambda poll: {(name, labels) for name, labels, _ in poll.samples if not name.endswith("_per_second")}  # noqa: E731
    assert series(first) <= series(second)              # nothing lost by the leaner walk (rates come on top)
    assert len(_values(second, "net_recv_bits_per_second")) == len(_values(second, "net_oper_up")) == 48

    # The Catalyst has one interface without 64-bit counters: there the 32-bit column stays.
    cisco = _poller(snmpsim.access("cisco-c3560"), profiles)
    asyncio.run(cisco.poll())
    kept = {oid for columns in (cisco._walks or {}).values() for oid in columns}
    assert hc_in in kept and in_32 in kept
