"""collector/checks/engine.py: stored batches in, findings out, per instance, with late data and restarts."""

from __future__ import annotations

import checks
from collector.checks.engine import CheckEngine, DeviceInfo, Finding
from tests.collector.store.helpers import T0, batch

MIN = 60_000
DEVICES = {("a1", "h1"): DeviceInfo("客户A", "上海", "server"), ("a1", "sw1"): DeviceInfo("客户A", "上海", "switch")}
LIBRARY = {id_: checks.library()[id_] for id_ in ("cpu_high", "interface_down")}


def _engine(firing=None) -> tuple[CheckEngine, list[Finding]]:  # type: ignore[no-untyped-def]
    found: list[Finding] = []
    engine = CheckEngine(LIBRARY, lambda agent, device: DEVICES.get((agent, device)), found.append, firing=firing)
    return engine, found


def _cpu(seq: int, minutes: list[int], values: list[float]):  # type: ignore[no-untyped-def]
    return batch("a1", seq, [("h1", "cpu_usage_percent", {"cpu": "cpu-total"}, [T0 + m * MIN for m in minutes], values)])


def test_a_sustained_cpu_load_fires_once_and_resolves_once() -> None:
    engine, found = _engine()
    engine.evaluate(_cpu(1, [0, 1, 2, 3, 4, 5], [95.0] * 6))
    engine.evaluate(_cpu(2, [6, 7, 8, 9], [96.0, 50.0, 50.0, 50.0]))
    assert [(f.kind, f.check.id, f.device_id, f.instance, f.at_ms) for f in found] == [
        ("fire", "cpu_high", "h1", "cpu=cpu-total", T0 + 5 * MIN),
        ("resolve", "cpu_high", "h1", "cpu=cpu-total", T0 + 9 * MIN),
    ]
    assert engine.points_evaluated == 10


def test_per_core_series_and_unknown_devices_are_not_judged() -> None:
    engine, found = _engine()
    engine.evaluate(batch("a1", 1, [("h1", "cpu_usage_percent", {"cpu": "cpu0"}, [T0 + m * MIN for m in range(8)], [99.0] * 8)]))
    engine.evaluate(batch("a1", 2, [("ghost", "cpu_usage_percent", {"cpu": "cpu-total"}, [T0 + m * MIN for m in range(8)], [99.0] * 8)]))
    assert found == []


def test_interfaces_are_separate_instances_and_admin_down_does_not_count() -> None:
    engine, found = _engine()
    ts = [T0 + m * MIN for m in range(4)]
    engine.evaluate(batch("a1", 1, [
        ("sw1", "net_admin_up", {"interface": "Gi1"}, ts, [1.0] * 4),
        ("sw1", "net_admin_up", {"interface": "Gi2"}, ts, [0.0] * 4),
        ("sw1", "net_oper_up", {"interface": "Gi1"}, ts, [0.0] * 4),
        ("sw1", "net_oper_up", {"interface": "Gi2"}, ts, [0.0] * 4),
    ]))
    assert [(f.kind, f.instance) for f in found] == [("fire", "interface=Gi1")]


def test_a_replayed_anomaly_keeps_the_time_it_happened() -> None:
    engine, found = _engine()
    engine.evaluate(_cpu(1, [0, 1, 2, 3, 4, 5, 6], [99.0] * 7))  # data from 12:00, replayed at 12:41
    (fire,) = found
    assert fire.at_ms == T0 + 5 * MIN and fire.seen_ms > fire.at_ms


def test_an_instance_open_before_a_restart_does_not_fire_again() -> None:
    engine, found = _engine(firing={("a1", "h1", "cpu_high", "cpu=cpu-total")})
    engine.evaluate(_cpu(1, [0, 1, 2, 3, 4, 5, 6], [99.0] * 7))
    assert found == []
    engine.evaluate(_cpu(2, [7, 8, 9, 10], [10.0] * 4))
    assert [f.kind for f in found] == ["resolve"]


def _trap(name: str, at_ms: int, **attributes: str):  # type: ignore[no-untyped-def]
    from protos.vigil.v1 import agent_pb2 as pb

    return pb.Event(device="ups1", at_ms=at_ms, source="snmp_trap", name=name, severity="major", attributes=attributes)


def test_trap_events_open_and_clear_per_instance() -> None:
    found: list[Finding] = []
    devices = {("a1", "ups1"): DeviceInfo("客户A", "上海", "ups")}
    engine = CheckEngine(checks.library(), lambda a, d: devices.get((a, d)), found.append)
    engine.evaluate_events(batch("a1", 1, [], [_trap("ups_alarm", T0, alarm="1.3.6.1.2.1.33.1.6.3.3"),
                                               _trap("ups_alarm", T0 + 1, alarm="1.3.6.1.2.1.33.1.6.3.8")]))
    engine.evaluate_events(batch("a1", 2, [], [_trap("ups_alarm_cleared", T0 + MIN, alarm="1.3.6.1.2.1.33.1.6.3.3")]))
    assert [(f.kind, f.check.id, f.instance) for f in found] == [
        ("fire", "ups_alarm_trap", "alarm=1.3.6.1.2.1.33.1.6.3.3"),
        ("fire", "ups_alarm_trap", "alarm=1.3.6.1.2.1.33.1.6.3.8"),
        ("resolve", "ups_alarm_trap", "alarm=1.3.6.1.2.1.33.1.6.3.3"),
    ]
    found.clear()
    anonymous = _trap("ups_alarm", T0 + 3 * MIN, alarm="y")
    anonymous.device = ""
    engine.evaluate_events(batch("a1", 4, [], [anonymous]))
    assert found == []  # a sender that is not a configured device opens nothing


def test_a_backlog_judged_after_newer_live_data_still_opens_and_resolves_at_its_own_times() -> None:
    engine, found = _engine()
    engine.evaluate(_cpu(50, [60, 61], [20.0, 21.0]))                      # live data of 13:00 arrives first
    engine.evaluate(_cpu(1, list(range(0, 12)), [99.0] * 7 + [10.0] * 5))  # then the 12:00 backlog: busy 12:00–12:06
    assert [(f.kind, f.at_ms) for f in found] == [("fire", T0 + 5 * MIN), ("resolve", T0 + 9 * MIN)]
