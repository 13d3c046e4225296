"""Every shipped check, fed the series the agent really sends: one stream that must fire, one that must not.

Each case names the metric and labels as the host poller or an SNMP profile
produces them (`test_sources.py` checks that they do), so a check that
reads a misspelt metric or misses an instance label fails here.
"""

from __future__ import annotations

import math
import re

import pytest

import checks
from checks.rules import Transition
from checks.spec import Check

MIN = 60_000
HOUR = 60 * MIN
LIBRARY = checks.library()


def _evaluator(check_id: str, metric: str, labels: dict[str, str], kind: str):  # type: ignore[no-untyped-def]
    check = LIBRARY[check_id]
    assert check.applies.matches(metric, kind, labels), f"{check_id} does not read {metric}{labels} on a {kind}"
    return check.rule.evaluator(check.thresholds)


def _minutes(*values: float) -> list[tuple[int, float]]:
    """One point a minute."""
    return [(i * MIN, v) for i, v in enumerate(values)]


def _kinds(evaluator, points: list[tuple[int, float]]) -> list[str]:  # type: ignore[no-untyped-def]
    return [t.kind for ts, v in points if (t := evaluator.feed(ts, v)) is not None]


# check, metric, labels, device kind, a stream that fires, a stream that does not
CASES = [
    ("memory_high", "mem_used_percent", {}, "server",
     _minutes(*[95.0] * 11), _minutes(*[95.0] * 9, 70.0, 95.0)),          # a 9-minute peak is not a shortage
    ("memory_high", "mem_used_percent", {"pool": "Processor"}, "switch",   # Cisco memory pools
     _minutes(*[93.0] * 11), _minutes(*[85.0] * 30)),
    ("swap_in_use", "swap_used_percent", {}, "host",
     _minutes(*[60.0] * 16), _minutes(*[20.0] * 60)),                      # idle pages in swap: normal
    ("filesystem_usage", "disk_used_percent", {"device": "/dev/sda1", "fstype": "ext4", "path": "/var"}, "host",
     _minutes(*[97.0] * 6), _minutes(*[89.0] * 60)),
    ("filesystem_usage", "disk_used_percent", {"path": "C:\\ Label:  Serial Number 5c6a"}, "server",   # hrStorageTable
     _minutes(*[97.0] * 6), _minutes(*[97.0] * 4, 80.0)),
    ("interface_errors_rising", "net_errors_in_per_second", {"interface": "Gi1/0/3", "alias": "to core"}, "switch",
     _minutes(*[0.5] * 11), _minutes(*[0.05] * 60)),                        # a stray error now and then
    ("interface_utilisation_high", "net_utilisation_percent", {"interface": "Gi1/0/1", "direction": "out"}, "switch",
     _minutes(*[95.0] * 16), _minutes(*[95.0] * 10, 60.0, 95.0)),           # a 10-minute backup burst
    ("temperature_high", "sensors_temperature_celsius", {"chip": "coretemp", "sensor": "Package id 0"}, "host",
     _minutes(*[85.0] * 6), _minutes(90.0, 92.0, 60.0, 91.0, 62.0)),      # a busy CPU's peaks
    ("temperature_high", "sensors_temperature_celsius", {"chip": "huawei-entity", "sensor": "MPU Board 1"}, "switch",
     _minutes(*[82.0] * 6), _minutes(*[45.0] * 10)),
    ("fan_failed", "sensors_fan_ok", {"fan": "Switch#1, Fan#1"}, "switch",
     _minutes(1.0, 0.0, 0.0, 0.0), _minutes(1.0, 0.0, 1.0, 1.0)),          # one odd reading during a swap
    ("psu_failed", "sensors_power_supply_ok", {"psu": "0.1"}, "switch",
     _minutes(1.0, 0.0, 0.0), _minutes(*[1.0] * 10)),
    ("ups_on_battery", "ups_on_battery", {}, "ups",
     _minutes(0.0, 1.0, 1.0), _minutes(0.0, 1.0, 0.0, 0.0)),               # a brown-out the UPS rode out
    ("ups_battery_low", "ups_battery_charge_percent", {}, "ups",
     _minutes(100.0, 70.0, 45.0, 35.0), _minutes(100.0, 90.0, 60.0, 55.0)),
    ("device_unreachable", "vigil_poll_up", {"poller": "snmp"}, "switch",
     _minutes(1.0, 0.0, 0.0, 0.0, 0.0), _minutes(1.0, 0.0, 1.0, 0.0, 1.0)),  # lost UDP replies now and then
    ("interface_down", "net_oper_up", {"interface": "Gi1/0/7"}, "switch",
     _minutes(1.0, 0.0, 0.0), _minutes(1.0, 1.0, 1.0)),
]


@pytest.mark.parametrize(("check_id", "metric", "labels", "kind", "fires", "quiet"), CASES,
                         ids=[f"{c[0]}-{c[3]}" for c in CASES])
def test_threshold_and_state_checks(check_id: str, metric: str, labels: dict[str, str], kind: str,
                                    fires: list[tuple[int, float]], quiet: list[tuple[int, float]]) -> None:
    assert _kinds(_evaluator(check_id, metric, labels, kind), fires) == ["fire"]
    assert _kinds(_evaluator(check_id, metric, labels, kind), quiet) == []


def test_a_filesystem_at_97_percent_fires_and_the_analysis_says_which() -> None:
    check = LIBRARY["filesystem_usage"]
    disk = _evaluator("filesystem_usage", "disk_used_percent", {"path": "/var", "device": "/dev/sda1", "fstype": "ext4"}, "host")
    fired = [t for ts, v in _minutes(*[97.0] * 6) if (t := disk.feed(ts, v))]
    assert fired == [Transition("fire", 5 * MIN, 97.0, 90.0)]
    text = check.analysis.render(**_keeper_values(check, "web-01", "/var", fired[0]))
    assert "/var" in text.en and "97 %" in text.en and "/var" in text.zh and "97%" in text.zh


def test_interface_down_is_judged_only_while_the_interface_is_enabled() -> None:
    """The engine calls `feed_good` while net_admin_up is not 1: an interface an admin shut is not an incident."""
    check = LIBRARY["interface_down"]
    assert check.applies.only_if == ("net_admin_up", 1.0)
    shut = _evaluator("interface_down", "net_oper_up", {"interface": "Gi1/0/9"}, "switch")
    assert [shut.feed_good(ts) for ts, _ in _minutes(0.0, 0.0, 0.0, 0.0)] == [None] * 4 and not shut.firing
    # Down while enabled fires; then an admin shuts it: the incident resolves as the interface is now as intended.
    port = _evaluator("interface_down", "net_oper_up", {"interface": "Gi1/0/9"}, "switch")
    assert _kinds(port, _minutes(0.0, 0.0)) == ["fire"]
    resolved = [t.kind for ts in (2 * MIN, 3 * MIN) if (t := port.feed_good(ts))]
    assert resolved == ["resolve"]


def test_agent_unreachable_fires_when_the_buffer_status_stops() -> None:
    silent = _evaluator("agent_unreachable", "vigil_buffer_points", {}, "host")
    for ts in range(0, 10 * MIN, 30_000):   # the host interval, 30 s
        silent.feed(ts, 0.0)
    last = 10 * MIN - 30_000
    assert silent.tick(last + 4 * MIN) is None          # a collector restart, a reconnect: not yet
    fired = silent.tick(last + 6 * MIN)
    assert fired is not None and fired.kind == "fire" and fired.at_ms == last + 5 * MIN
    back = silent.feed(last + 20 * MIN, 120.0)          # the agent is back, replaying its backlog
    assert back is not None and back.kind == "resolve"


def test_agent_buffer_checks_fire_when_their_totals_grow() -> None:
    dropped = _evaluator("agent_buffer_overflow", "vigil_buffer_dropped_points_total", {}, "host")
    assert _kinds(dropped, _minutes(0.0, 0.0, 0.0)) == []
    fired = dropped.feed(3 * MIN, 4200.0)
    assert fired is not None and fired.value == 4200.0
    damaged = _evaluator("agent_buffer_damaged", "vigil_buffer_damaged_bytes_total", {}, "host")
    assert _kinds(damaged, _minutes(0.0, 0.0)) == []
    assert _kinds(damaged, [(2 * MIN, 0.0), (3 * MIN, 65536.0)]) == ["fire"]   # restarted after a crash


def test_a_host_reboot_fires_and_an_uptime_that_keeps_growing_does_not() -> None:
    host = _evaluator("host_rebooted", "system_uptime_seconds", {}, "host")
    assert _kinds(host, [(0, 86_400.0), (30_000, 86_430.0), (60_000, 25.0)]) == ["fire"]
    host = _evaluator("host_rebooted", "system_uptime_seconds", {}, "server")
    assert _kinds(host, [(i * MIN, 1000.0 + 60 * i) for i in range(30)]) == []


def test_a_device_reboot_fires_but_not_the_sysuptime_wrap_of_a_switch_up_for_497_days() -> None:
    wrap = 2**32 / 100
    switch = _evaluator("device_rebooted", "snmp_uptime_seconds", {}, "switch")
    assert _kinds(switch, [(0, wrap - 30), (MIN, 30.0), (2 * MIN, 90.0)]) == []
    assert _kinds(switch, [(3 * MIN, 12.0)]) == ["fire"]
    assert not LIBRARY["device_rebooted"].applies.matches("snmp_uptime_seconds", "server", {})  # its OS uptime counts


def test_device_unreachable_reads_the_snmp_poller_only() -> None:
    applies = LIBRARY["device_unreachable"].applies
    assert not applies.matches("vigil_poll_up", "host", {"poller": "host"})   # a hung NFS mount is not unreachability


# ------------------------------------------------------------------ trap events


TRAPS = [
    ("temperature_trap", ["temperature_high"], "temperature_normal"),      # Huawei: rising alarm and resume
    ("temperature_trap", ["temperature_alarm"], None),                      # Cisco: no clearing trap
    ("temperature_trap", ["temperature_critical"], None),                   # H3C
    ("power_supply_trap", ["power_supply_off"], "power_supply_on"),
    ("hardware_fault_trap", ["entity_faulty"], "entity_recovered"),
    ("hardware_fault_trap", ["entity_fault"], "entity_fault_cleared"),
    ("environment_shutdown_trap", ["env_shutdown"], None),
    ("ups_alarm_trap", ["ups_alarm", "ups_alarm"], "ups_alarm_cleared"),
]


@pytest.mark.parametrize(("check_id", "fire", "clear"), TRAPS, ids=[f"{t[0]}-{t[1][0]}" for t in TRAPS])
def test_trap_checks_fire_on_their_events_and_resolve(check_id: str, fire: list[str], clear: str | None) -> None:
    check = LIBRARY[check_id]
    alarm = check.rule.evaluator(check.thresholds)
    kinds = [t.kind for i, name in enumerate(fire) if (t := alarm.feed_event(name, i * MIN))]
    assert kinds == ["fire"]
    if clear is not None:
        resolved = alarm.feed_event(clear, 10 * MIN)
    else:
        resolved = alarm.tick(10 * MIN + int(check.thresholds["resolve_after"] * 1000))
    assert resolved is not None and resolved.kind == "resolve"


@pytest.mark.parametrize("event", ["link_down", "cold_start", "snmp_auth_failure", "temperature_state_changed",
                                   "fan_state_changed", "ups_test_completed", "entity_changed", "cpu_high"])
def test_no_trap_check_fires_on_traps_that_are_news_not_faults(event: str) -> None:
    for check in LIBRARY.values():
        if check.applies.metric == "snmp_trap":
            assert check.rule.evaluator(check.thresholds).feed_event(event, 0) is None, check.id


# ------------------------------------------------------------------ texts


def _keeper_values(check: Check, device: str, instance: str, transition: Transition) -> dict[str, object]:
    """What collector/incidents/keeper.py hands `Text.render` when an incident opens."""
    return {**check.thresholds, "device": device, "instance": instance or device, "value": transition.value,
            "threshold": transition.threshold, "for_min": check.thresholds.get("for", 0.0) / 60}


@pytest.mark.parametrize("check", LIBRARY.values(), ids=list(LIBRARY))
def test_texts_use_only_the_values_an_incident_has(check: Check) -> None:
    """A name the keeper does not give renders as "?"; a trap's NaN value must not be shown either."""
    from checks.rules import OnEvent

    fired = Transition("fire", 0, math.nan, math.nan) if isinstance(check.rule, OnEvent) else Transition("fire", 0, 42.0, 90.0)
    values = _keeper_values(check, "core-sw-1", "Gi1/0/1", fired)
    for text in (check.analysis.render(**values), check.advice.render(**values)):
        for words in (text.en, text.zh):
            assert "?" not in words and not re.search(r"\bnan\b", words), f"{check.id}: {words}"


@pytest.mark.parametrize("check", LIBRARY.values(), ids=list(LIBRARY))
def test_every_check_lives_in_the_module_named_after_it(check: Check) -> None:
    module = __import__(f"checks.{check.id}", fromlist=["CHECK"])
    assert module.CHECK is check and module.__doc__, check.id
    assert check.tags and all(v >= 0 for v in check.thresholds.values()), check.id
