"""A customer with two sites and 30 days of hourly rollups, written straight into the store, with planted anomalies.

Every figure the tests expect is computed here, by hand, from the plan below,
not by the code under test. November 2026 in Asia/Shanghai: 720 hours from
2026-10-31 16:00 UTC. Each hour holds 60 samples (one a minute).

    a1 (上海机房)
      web-1  host    cpu 30 %, hours 100–102 at 95 % (max 99 in hour 101)       → cpu_high major, sustained
                     swap 35 % all month (p95 35 > recover 30, < limit 50)      → swap_in_use warning, near
                     /data 60 → 95 % linearly                                   → filesystem_usage major, forecast warning
                     rebooted at hour 200 + 30 min                              → host_rebooted warning
      core-sw switch polls fail hours 300–301, half of 302 (2.5 h)              → device_unreachable critical
                     Gi0/2 oper down hours 400–409 while admin up               → interface_down major
                     Gi0/3 down all month but admin down                        → passes (gated)
                     Gi0/1 in: 20 %, hour 500 peaks at 96 % (mean 40)           → interface_utilisation_high info, brief
                     Gi0/1 out: 85 % all month                                  → interface_utilisation_high warning, near
                     trap entity_faulty at hour 600                             → hardware_fault_trap major
    a2 (北京机房)
      ups-1   ups    on battery hour 650 (20 min), charge 35 % that hour        → ups_on_battery, ups_battery_low critical
      db-1    host   healthy                                                    → no findings, score 100

Incidents (SLA 2 h / 48 h, major and critical; the report runs 8 h after the period):
    1 cpu_high web-1            ack +30 min, plan +10 h          response met,  plan met
    2 device_unreachable core-sw ack +3 h, plan +50 h            response missed, plan missed
    3 interface_down Gi0/2      ack +1 h, resolved +9 h, no plan response met,  plan met (resolved)
    4 ups_on_battery ups-1      nothing                          response missed, plan missed (78 h at report time)
    5 swap_in_use web-1 (warning)                                not covered by the SLA
"""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy import Engine, insert

from collector.store import schema

HOUR = 3_600_000
MIN = 60_000
P0 = 1_793_462_400_000            # 2026-11-01 00:00 Asia/Shanghai = 2026-10-31 16:00 UTC
HOURS = 720
END = P0 + HOURS * HOUR
NOW = END + 8 * HOUR
CUSTOMER = "客户A"
TZ = "Asia/Shanghai"
SYS_DESCR = "Cisco IOS Software, C3560 Software (C3560-IPSERVICESK9-M), Version 12.2(55)SE5, RELEASE SOFTWARE (fc1)"

Hour = tuple[float, float, float, float]   # mean, min, max, last


def at(hour: float) -> int:
    return P0 + int(hour * HOUR)


class Writer:
    def __init__(self, engine: Engine, start_hour: int = -72) -> None:
        self.engine = engine
        self.start_hour = start_hour
        self.next_id = 1
        self.series: list[dict[str, object]] = []
        self.rollups: list[dict[str, object]] = []

    def put(self, agent: str, device: str, metric: str, labels: dict[str, str], value: Callable[[int], Hour | float | None],
            count: int = 60) -> int:
        sid = self.next_id
        self.next_id += 1
        self.series.append({"series_id": sid, "agent_id": agent, "device_id": device, "metric": metric,
                            "labels": json.dumps(sorted([k, v] for k, v in labels.items()), ensure_ascii=False)})
        for hour in range(self.start_hour, HOURS):
            got = value(hour)
            if got is None:
                continue
            mean, low, high, last = (got, got, got, got) if isinstance(got, (int, float)) else got
            self.rollups.append({"series_id": sid, "hour_ms": at(hour), "count": count, "sum": mean * count,
                                 "min": low, "max": high, "last": last, "last_ts_ms": at(hour) + 59 * MIN})
        return sid

    def flush(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(insert(schema.series), self.series)
            connection.execute(insert(schema.rollups_hourly), self.rollups)


def _agent(connection, agent: str, site: str) -> None:  # type: ignore[no-untyped-def]
    connection.execute(insert(schema.agents).values(agent_id=agent, customer=CUSTOMER, site=site, hostname=agent,
                                                    first_seen_ms=P0 - 30 * 24 * HOUR, last_seen_ms=NOW))


def _device(connection, agent: str, device: str, kind: str, pollers: str, labels: dict[str, str] | None = None,  # type: ignore[no-untyped-def]
            platform: str = "") -> None:
    connection.execute(insert(schema.devices).values(
        agent_id=agent, device_id=device, name=device, kind=kind, address="10.0.0.1", platform=platform, pollers=pollers,
        labels=json.dumps(labels or {}), first_seen_ms=P0 - 30 * 24 * HOUR, last_seen_ms=NOW))


def data_fill(hour: int) -> float:
    """/data: 60 % at hour 0 to 95 % at hour 719, linearly (and 60 % before the period)."""
    return 60.0 + 35.0 * max(hour, 0) / (HOURS - 1)


BOOT_0 = P0 - 10 * 24 * HOUR
BOOT_1 = at(200.5)


def uptime(hour: int) -> Hour:
    end = at(hour) + 59 * MIN
    if hour < 200:
        first = (at(hour) - BOOT_0) / 1000
        return (first + end / 1000) / 2, first, (end - BOOT_0) / 1000, (end - BOOT_0) / 1000
    if hour == 200:
        before = (BOOT_1 - 60_000 - BOOT_0) / 1000
        return 1000.0, 60.0, before, (end - BOOT_1) / 1000
    value = (end - BOOT_1) / 1000
    return value - 1800, value - 3540, value, value


def populate(engine: Engine) -> None:
    with engine.begin() as connection:
        _agent(connection, "a1", "上海机房")
        _agent(connection, "a2", "北京机房")
        _device(connection, "a1", "web-1", "host", "host", platform="linux")
        _device(connection, "a1", "core-sw", "switch", "snmp", platform="cisco_ios")
        _device(connection, "a2", "ups-1", "ups", "snmp", {"model": "Smart-UPS 3000", "version": "UPS 09.3"})
        _device(connection, "a2", "db-1", "host", "host", platform="linux")
    w = Writer(engine)
    # web-1
    w.put("a1", "web-1", "cpu_usage_percent", {"cpu": "cpu-total"},
          lambda h: (95.0, 90.5, 99.0 if h == 101 else 97.0, 95.0) if 100 <= h <= 102 else (30.0, 20.0, 45.0, 30.0))
    w.put("a1", "web-1", "cpu_usage_percent", {"cpu": "cpu0"}, lambda h: (99.0, 98.0, 100.0, 99.0))   # per core: ignored
    w.put("a1", "web-1", "mem_used_percent", {}, lambda h: 50.0)
    w.put("a1", "web-1", "swap_used_percent", {}, lambda h: 35.0)
    w.put("a1", "web-1", "disk_used_percent", {"path": "/", "device": "sda1"}, lambda h: 40.0)
    w.put("a1", "web-1", "disk_used_percent", {"path": "/data", "device": "sdb1"}, data_fill)
    w.put("a1", "web-1", "system_uptime_seconds", {}, uptime)
    w.put("a1", "web-1", "vigil_poll_up", {"poller": "host"}, lambda h: 1.0)
    w.put("a1", "web-1", "net_recv_bits_per_second", {"interface": "eth0"}, lambda h: 2e7)
    w.put("a1", "web-1", "net_sent_bits_per_second", {"interface": "eth0"}, lambda h: 1e7)
    # core-sw
    w.put("a1", "core-sw", "vigil_poll_up", {"poller": "snmp"},
          lambda h: (0.0, 0.0, 0.0, 0.0) if h in (300, 301) else ((0.5, 0.0, 1.0, 1.0) if h == 302 else 1.0))
    w.put("a1", "core-sw", "snmp_info", {"sys_descr": SYS_DESCR, "sys_name": "core-sw"}, lambda h: 1.0)
    w.put("a1", "core-sw", "snmp_uptime_seconds", {}, lambda h: (at(h) + 59 * MIN - BOOT_0) / 1000)
    w.put("a1", "core-sw", "net_admin_up", {"interface": "Gi0/1"}, lambda h: 1.0)
    w.put("a1", "core-sw", "net_admin_up", {"interface": "Gi0/2"}, lambda h: 1.0)
    w.put("a1", "core-sw", "net_admin_up", {"interface": "Gi0/3"}, lambda h: 0.0)
    w.put("a1", "core-sw", "net_oper_up", {"interface": "Gi0/1"}, lambda h: 1.0)
    w.put("a1", "core-sw", "net_oper_up", {"interface": "Gi0/2"}, lambda h: 0.0 if 400 <= h <= 409 else 1.0)
    w.put("a1", "core-sw", "net_oper_up", {"interface": "Gi0/3"}, lambda h: 0.0)
    w.put("a1", "core-sw", "net_utilisation_percent", {"interface": "Gi0/1", "direction": "in"},
          lambda h: (40.0, 20.0, 96.0, 20.0) if h == 500 else (20.0, 15.0, 30.0, 20.0))
    w.put("a1", "core-sw", "net_utilisation_percent", {"interface": "Gi0/1", "direction": "out"}, lambda h: 85.0)
    # ups-1
    w.put("a2", "ups-1", "vigil_poll_up", {"poller": "snmp"}, lambda h: 1.0)
    w.put("a2", "ups-1", "ups_on_battery", {}, lambda h: (20 / 60, 0.0, 1.0, 0.0) if h == 650 else 0.0)
    w.put("a2", "ups-1", "ups_battery_charge_percent", {}, lambda h: (35.0, 30.0, 100.0, 60.0) if h == 650 else 100.0)
    # db-1
    w.put("a2", "db-1", "cpu_usage_percent", {"cpu": "cpu-total"}, lambda h: (20.0, 10.0, 35.0, 20.0))
    w.put("a2", "db-1", "mem_used_percent", {}, lambda h: 40.0)
    w.put("a2", "db-1", "disk_used_percent", {"path": "/", "device": "sda1"}, lambda h: 30.0)
    w.put("a2", "db-1", "vigil_poll_up", {"poller": "host"}, lambda h: 1.0)
    w.flush()
    with engine.begin() as connection:
        connection.execute(insert(schema.events).values(
            agent_id="a1", seq=1, device_id="core-sw", at_ms=at(600.25), received_ms=at(600.25), source="snmp_trap",
            name="entity_faulty", severity="major", message="Fan tray 1 faulty", attributes="{}"))
    _incidents(engine)


INCIDENTS = [
    # id, agent, device, check, instance, severity, site, seen hour, steps (kind, minutes after seen), status, title
    (1, "a1", "web-1", "cpu_high", "cpu=cpu-total", "major", "上海机房", 100 + 5 / 60,
     [("acknowledged", 30), ("plan", 600), ("resolved", 900)], "resolved"),
    (2, "a1", "core-sw", "device_unreachable", "", "critical", "上海机房", 300 + 3 / 60,
     [("acknowledged", 180), ("plan", 3000)], "planned"),
    (3, "a1", "core-sw", "interface_down", "interface=Gi0/2", "major", "上海机房", 400 + 1 / 60,
     [("acknowledged", 60), ("resolved", 540)], "resolved"),
    (4, "a2", "ups-1", "ups_on_battery", "", "critical", "北京机房", 650 + 1 / 60, [], "open"),
    (5, "a1", "web-1", "swap_in_use", "", "warning", "上海机房", 20.0, [], "open"),
]


def _incidents(engine: Engine) -> None:
    import checks

    library = checks.library()
    with engine.begin() as connection:
        for number, agent, device, check_id, instance, severity, site, seen, steps, status in INCIDENTS:
            check = library[check_id]
            seen_ms = at(seen)
            times = {kind: seen_ms + minutes * MIN for kind, minutes in steps}
            connection.execute(insert(schema.incidents).values(
                incident_id=number, agent_id=agent, device_id=device, check_id=check_id, instance=instance,
                customer=CUSTOMER, site=site, severity=severity, status=status, happened_ms=seen_ms - MIN, seen_ms=seen_ms,
                last_fired_ms=seen_ms, resolved_ms=times.get("resolved", 0), acknowledged_ms=times.get("acknowledged", 0),
                plan_ms=times.get("plan", 0), title_en=check.title.en, title_zh=check.title.zh,
                analysis_en="", analysis_zh="", advice_en="", advice_zh="",
            ))
            connection.execute(insert(schema.incident_timeline).values(incident_id=number, at_ms=seen_ms - MIN, kind="opened", who="vigil"))
            for kind, minutes in steps:
                connection.execute(insert(schema.incident_timeline).values(
                    incident_id=number, at_ms=seen_ms + minutes * MIN, kind=kind, who="张工", text="plan" if kind == "plan" else ""))
