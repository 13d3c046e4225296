"""The InfluxDB sink over a real store into a real VictoriaMetrics: every point, exactly.

VictoriaMetrics speaks the InfluxDB v2 write API but stores a point as the
series `{measurement}_{field}` with its tags as labels, integers as floats
and string fields as 0. So each test compares two things: the line protocol
the sink produced (what InfluxDB would get) literally for a few points, and
every stored point as VictoriaMetrics read it back — name, labels, value,
timestamp — against what the store holds.

VictoriaMetrics also keeps a value as a decimal of limited digits where
InfluxDB keeps the float64: 0.1 + 0.2 comes back as 0.3, 1/3 as
0.333333333333, and 1e-300 beside 2.5e300 in one series as 0. The values
here are ones it keeps exactly; that the sink writes every float64 so that
it reads back bit for bit is tested on the line protocol
(test_lineprotocol.py).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from sqlalchemy import select

from collector.sinks import telegraf
from collector.sinks.outbox import Outbox, points_cursor
from collector.store import queries, schema
from protos.vigil.v1 import agent_pb2 as pb
from tests.collector.sinks.conftest import CUSTOMER, SITE, drain, open_store, runner_for, sink_config, write
from tests.collector.store.helpers import T0
from tests.peers.victoria import VictoriaMetrics

pytestmark = pytest.mark.integration

DEVICES = {"host-1": ("", False), "core-sw-1": ("10.0.0.2", True), "ups-1": ("10.0.0.9", True)}

SERIES = [
    ("host-1", "cpu_user_percent", {"cpu": "cpu-total"}, [T0, T0 + 1000, T0 + 2000], [1.5, 0.25, 100.0]),
    ("host-1", "cpu_usage_percent", {"cpu": "cpu0"}, [T0], [12.25]),
    ("host-1", "mem_total_bytes", {}, [T0], [8_254_386_176.0]),
    ("host-1", "system_uptime_seconds", {}, [T0], [12345.678]),
    ("host-1", "disk_used_percent", {"device": "/dev/vda1", "fstype": "ext4", "path": "/"}, [T0], [21.75]),
    ("host-1", "net_recv_bits_per_second", {"interface": "eth0"}, [T0, T0 + 1000], [0.001, 2.5e12]),
    ("host-1", "sensors_temperature_celsius", {"chip": "coretemp", "sensor": "Core 0"}, [T0], [41.0]),
    ("host-1", "vigil_poll_up", {"poller": "host"}, [T0], [1.0]),
    ("core-sw-1", "net_recv_bits_per_second", {"alias": "uplink to 核心, rack=A", "interface": "GigabitEthernet1/0/1"}, [T0], [123456.789]),
    ("core-sw-1", "net_utilisation_percent", {"direction": "in", "interface": "GigabitEthernet1/0/1"}, [T0], [0.0123]),
    ("core-sw-1", "net_speed_bits_per_second", {"interface": "GigabitEthernet1/0/1"}, [T0], [10e9]),
    ("core-sw-1", "snmp_info", {"sys_descr": 'Cisco IOS "C3560"', "sys_name": "core sw"}, [T0], [1.0]),
    ("ups-1", "ups_battery_charge_percent", {}, [T0, T0 + 60_000], [97.0, -0.0]),
    # Labels line protocol must escape, and ones InfluxDB reserves or Vigil's identity tags take.
    ("host-1", "custom_thing", {"_hidden": "x", "device": "sdb", "note": "a b,c=d\\e", "tail": "end\\", "time": "t"}, [T0], [7.0]),
    ("host-1", "uptime", {}, [T0], [3.0]),
]
NOT_REPRESENTABLE = [("host-1", "cpu_user_percent", {"cpu": "cpu-total"}, [T0 + 3000, T0 + 4000], [math.nan, math.inf])]
TRAP = pb.Event(device="core-sw-1", at_ms=T0 + 500, source="snmp_trap", name="link_down", severity="major",
                message='Interface Gi1/0/1 "uplink" went down')


def expected_points(engine, agents: tuple[str, ...], precision: str = "ms") -> list[tuple]:  # type: ignore[type-arg]
    """Every stored point as VictoriaMetrics should hold it, derived from the store and the mapping."""
    out = []
    for agent in agents:
        for device in DEVICES:
            address, snmp = DEVICES[device]
            series = queries.series_of(engine, agent, device)
            points = queries.raw_points(engine, agent, {s.series_id for s in series}, 0, 2**62)
            for s in series:
                t = telegraf.target(s.metric, s.labels, customer=CUSTOMER, site=SITE, agent=agent, device=device,
                                    address=address, snmp_device=snmp)
                for ts, value in zip(*points[s.series_id]):
                    if not math.isfinite(value):
                        continue
                    stamp = ts - ts % 1000 if precision == "s" else ts
                    out.append((f"{t.measurement}_{t.field}", t.tags, float(int(value)) if t.integer else value, stamp))
    return sorted(out)


def fill(writer, agent: str = "a1") -> None:  # type: ignore[no-untyped-def]
    write(writer, agent, 1, SERIES[:8], events=(TRAP,))
    write(writer, agent, 2, SERIES[8:] + NOT_REPRESENTABLE)
    # Late data: an agent replaying older points after newer ones arrived.
    write(writer, agent, 3, [("host-1", "cpu_user_percent", {"cpu": "cpu-total"}, [T0 - 60_000], [3.5])])


def test_every_point_arrives_exactly_with_telegraf_names(tmp_path: Path, victoria: VictoriaMetrics) -> None:
    engine, writer = open_store(f"sqlite:///{tmp_path / 'vigil.db'}", agents=("a1", "a2"))
    fill(writer, "a1")
    fill(writer, "a2")
    runner = runner_for(engine, sink_config(victoria.url, batch_points=7))  # several requests per batch
    drain(engine, runner)

    stored = victoria.points('{__name__!~"vigil_event_.*"}')
    assert stored == expected_points(engine, ("a1", "a2"))
    assert runner.skipped == 4  # NaN and +Inf, twice: line protocol cannot carry them
    assert len(stored) == runner.points_sent - 2  # …less the two events, checked below

    # Spot checks written out by hand, not derived from the mapping.
    by_name: dict[str, dict[str, str]] = {name: dict(tags) for name, tags, _, _ in stored if dict(tags)["agent"] == "a1"}
    identity = {"customer": CUSTOMER, "site": SITE, "agent": "a1"}
    assert by_name["cpu_usage_user"] == {**identity, "device": "host-1", "host": "host-1", "cpu": "cpu-total"}
    assert by_name["mem_total"] == {**identity, "device": "host-1", "host": "host-1"}
    assert by_name["disk_used_percent"] == {**identity, "device": "host-1", "host": "host-1", "fs_device": "/dev/vda1", "fstype": "ext4", "path": "/"}
    assert by_name["net_recv_bits_per_second"]["interface"] == "eth0"
    assert by_name["interface_recv_bits_per_second"] == {
        **identity, "device": "core-sw-1", "host": "core-sw-1", "agent_host": "10.0.0.2",
        "ifName": "GigabitEthernet1/0/1", "ifAlias": "uplink to 核心, rack=A",
    }
    assert by_name["temp_temp"] == {**identity, "device": "host-1", "host": "host-1", "chip": "coretemp", "sensor": "Core 0"}
    assert by_name["custom_thing"] == {
        **identity, "device": "host-1", "host": "host-1", "label__hidden": "x", "label_device": "sdb", "note": "a b,c=d\\e",
        "tail": "end\\", "label_time": "t",
    }
    assert "uptime_value" in by_name and "system_uptime" in by_name and "ups_battery_charge_percent" in by_name

    # What InfluxDB would have been sent for some of them, literally.
    records = runner_for(engine, sink_config(victoria.url)).sink.encode(Outbox(engine, "x", 10_000).read((0, 0))).records
    lines = {record.decode() for record in records}
    head = "agent=a1,{},customer=客户A\\,\\ 上海\\=总部,device={},host={},{}site=机房\\ 1\\\\B"
    assert f"mem,{head.format('', 'host-1', 'host-1', '').replace(',,', ',')} total=8254386176i {T0}" in lines
    assert f"system,{head.format('', 'host-1', 'host-1', '').replace(',,', ',')} uptime=12345i {T0}" in lines
    assert (
        "interface," + head.format("agent_host=10.0.0.2", "core-sw-1", "core-sw-1",
                                   "ifAlias=uplink\\ to\\ 核心\\,\\ rack\\=A,ifName=GigabitEthernet1/0/1,")
        + f" recv_bits_per_second=123456.789 {T0}"
    ) in lines
    assert (
        "interface," + head.format("agent_host=10.0.0.2", "core-sw-1", "core-sw-1", "ifName=GigabitEthernet1/0/1,")
        + f" ifSpeed=10000000000i {T0}"
    ) in lines
    assert (
        "vigil_event,agent=a1,agent_host=10.0.0.2,customer=客户A\\,\\ 上海\\=总部,device=core-sw-1,host=core-sw-1,"
        "name=link_down,severity=major,site=机房\\ 1\\\\B,source=snmp_trap "
        f'message="Interface Gi1/0/1 \\"uplink\\" went down",severity_level=3i {T0 + 500}'
    ) in lines

    # Events: VictoriaMetrics keeps the integer field, and stores the string field as 0.
    events = victoria.points('{__name__=~"vigil_event_.*"}')
    assert sorted((name, value) for name, _, value, _ in events) == [
        ("vigil_event_message", 0.0), ("vigil_event_message", 0.0), ("vigil_event_severity_level", 3.0), ("vigil_event_severity_level", 3.0),
    ]
    assert {dict(tags)["name"] for _, tags, _, _ in events} == {"link_down"}


def test_several_sinks_each_with_its_own_cursor_and_precision(tmp_path: Path) -> None:
    engine, writer = open_store(f"sqlite:///{tmp_path / 'vigil.db'}")
    fill(writer)
    with VictoriaMetrics(tmp_path / "vm-ms") as ms, VictoriaMetrics(tmp_path / "vm-ns") as ns, VictoriaMetrics(tmp_path / "vm-s") as s:
        runners = [
            runner_for(engine, sink_config(ms.url, name="primary")),
            runner_for(engine, sink_config(ns.url, name="long-term", precision="ns", batch_points=3)),
            runner_for(engine, sink_config(s.url, name="coarse", precision="s")),
        ]
        drain(engine, *runners)
        events = '{__name__!~"vigil_event_.*"}'
        assert ms.points(events) == expected_points(engine, ("a1",))
        assert ns.points(events) == expected_points(engine, ("a1",))
        # precision s: the milliseconds are dropped.
        assert s.points(events) == expected_points(engine, ("a1",), precision="s")

        # Later points go out once each, from each sink's own position.
        with engine.connect() as c:
            cursors = dict(c.execute(select(schema.cursors.c.name, schema.cursors.c.position)).all())
        assert cursors[points_cursor("primary")] == cursors[points_cursor("long-term")] == cursors[points_cursor("coarse")] == 3
        write(writer, "a1", 4, [("host-1", "mem_total_bytes", {}, [T0 + 10_000], [9e9])])
        drain(engine, runner_for(engine, sink_config(ms.url, name="primary")))
        assert ms.points(events) == expected_points(engine, ("a1",))  # no point twice
        assert [v for name, _, v, _ in ms.points('{__name__="mem_total"}')] == [8_254_386_176.0, 9e9]
        assert [v for name, _, v, _ in ns.points('{__name__="mem_total"}')] == [8_254_386_176.0]  # long-term has not run since
