"""Vigil metric → InfluxDB measurement, field and tags, in the names Telegraf uses.

Providers already have Grafana dashboards built on Telegraf's `cpu`, `mem`,
`disk`, `net`, `system` … measurements. A Vigil figure takes Telegraf's
measurement and field name when it is the same kind of quantity in the same
unit (a gauge for a gauge, percent for percent, bytes for bytes); a
difference of definition in detail is told in the rule's note. **A Vigil
rate never takes the name of a Telegraf counter**: Telegraf's `net`
`bytes_recv` and `diskio` `reads` are counters that dashboards feed to
`non_negative_derivative()`, while Vigil sends `recv_bits_per_second` and
`reads_per_second`, already rates. Under Telegraf's names a dashboard would
differentiate a rate and draw nonsense without a warning; under their own
names it draws nothing, which anyone notices.

Integer fields: where Telegraf writes an integer (`mem total=…i`), so does
Vigil, so both can share a bucket without a field type conflict.

Every point also gets the identity tags (`IDENTITY_TAGS`). A label whose
name one of them takes, or that InfluxDB reserves, is renamed `label_<name>`.
Metrics without a rule follow the default: the measurement is the metric's
name up to the first underscore, the field is the rest (README "Metric
names"). The README's mapping table is `markdown_table()`, checked by a test.
"""

from __future__ import annotations

from dataclasses import dataclass

# customer, site, agent, device on every point (the promise), `host` because every
# Telegraf dashboard selects by it, `agent_host` (a device's address) as Telegraf's SNMP input tags it.
IDENTITY_TAGS = ("customer", "site", "agent", "device", "host", "agent_host")
# InfluxDB reserves keys starting with "_"; "time" breaks InfluxQL.
_RESERVED = frozenset(IDENTITY_TAGS) | {"time"}

EVENT_MEASUREMENT = "vigil_event"
# Incidents (another issue) will be written as `vigil_incident` points: tags
# identity + incident id, severity, check; fields title (string), state (string),
# open (integer 1/0) — one point per state change, for Grafana annotations.
INCIDENT_MEASUREMENT = "vigil_incident"


@dataclass(frozen=True, slots=True)
class Rule:
    metric: str
    measurement: str
    field: str
    integer: bool = False                        # write as a line protocol integer (Telegraf does)
    tags: tuple[tuple[str, str], ...] = ()       # label renames: (Vigil label, InfluxDB tag)
    snmp: bool | None = None                     # True: only for devices polled over SNMP
    note: str = ""


def _r(metric: str, measurement: str, field: str, note: str = "", **kw: object) -> Rule:
    return Rule(metric, measurement, field, note=note, **kw)  # type: ignore[arg-type]


_SNMP_INTERFACE = (("interface", "ifName"), ("alias", "ifAlias"))
_RATE = "a rate; Telegraf's `{0}` is a counter"

RULES: tuple[Rule, ...] = (
    # ---- cpu (tag cpu = cpu-total, cpu0 …)
    _r("cpu_usage_percent", "cpu", "usage_percent",
       "busy time without iowait; Telegraf's `usage_active` counts iowait as busy (≈ usage_percent + usage_iowait)"),
    _r("cpu_user_percent", "cpu", "usage_user", "includes guest time, which Telegraf's subtracts"),
    _r("cpu_system_percent", "cpu", "usage_system"),
    _r("cpu_iowait_percent", "cpu", "usage_iowait"),
    # ---- system, processes
    _r("system_load1", "system", "load1"),
    _r("system_load5", "system", "load5"),
    _r("system_load15", "system", "load15"),
    _r("system_n_cpus", "system", "n_cpus", integer=True),
    _r("system_uptime_seconds", "system", "uptime", "whole seconds", integer=True),
    _r("processes_total", "processes", "total", integer=True),
    # ---- mem, swap
    _r("mem_total_bytes", "mem", "total", integer=True),
    _r("mem_available_bytes", "mem", "available", integer=True),
    _r("mem_used_bytes", "mem", "used", "total − available; Telegraf's is total − free − buffers − cached", integer=True),
    _r("mem_used_percent", "mem", "used_percent", "100 × (total − available) / total, i.e. 100 − Telegraf's `available_percent`"),
    _r("swap_total_bytes", "swap", "total", integer=True),
    _r("swap_used_bytes", "swap", "used", integer=True),
    _r("swap_used_percent", "swap", "used_percent"),
    # ---- disk (tags path, fstype; the block device moves to fs_device: `device` is Vigil's device)
    _r("disk_total_bytes", "disk", "total", integer=True, tags=(("device", "fs_device"),)),
    _r("disk_used_bytes", "disk", "used", integer=True, tags=(("device", "fs_device"),)),
    _r("disk_free_bytes", "disk", "free", "what a non-root user can write, as Telegraf's", integer=True,
       tags=(("device", "fs_device"),)),
    _r("disk_used_percent", "disk", "used_percent", tags=(("device", "fs_device"),)),
    _r("disk_inodes_used_percent", "disk", "inodes_used_percent", tags=(("device", "fs_device"),)),
    # ---- diskio (tag name): rates under their own names
    _r("diskio_reads_per_second", "diskio", "reads_per_second", _RATE.format("reads")),
    _r("diskio_writes_per_second", "diskio", "writes_per_second", _RATE.format("writes")),
    _r("diskio_read_bytes_per_second", "diskio", "read_bytes_per_second", _RATE.format("read_bytes")),
    _r("diskio_write_bytes_per_second", "diskio", "write_bytes_per_second", _RATE.format("write_bytes")),
    _r("diskio_busy_percent", "diskio", "busy_percent", "share of time busy; Telegraf's `io_time` is a counter (ms)"),
    # ---- SNMP interfaces → `interface`, keyed by ifName as in Telegraf's SNMP examples
    _r("net_recv_bits_per_second", "interface", "recv_bits_per_second", "a rate; Telegraf's `ifHCInOctets` is a counter of bytes",
       snmp=True, tags=_SNMP_INTERFACE),
    _r("net_sent_bits_per_second", "interface", "sent_bits_per_second", "a rate; Telegraf's `ifHCOutOctets` is a counter of bytes",
       snmp=True, tags=_SNMP_INTERFACE),
    _r("net_recv_packets_per_second", "interface", "recv_packets_per_second", "a rate (unicast + multicast + broadcast)",
       snmp=True, tags=_SNMP_INTERFACE),
    _r("net_sent_packets_per_second", "interface", "sent_packets_per_second", "a rate (unicast + multicast + broadcast)",
       snmp=True, tags=_SNMP_INTERFACE),
    _r("net_errors_in_per_second", "interface", "errors_in_per_second", _RATE.format("ifInErrors"), snmp=True, tags=_SNMP_INTERFACE),
    _r("net_errors_out_per_second", "interface", "errors_out_per_second", _RATE.format("ifOutErrors"), snmp=True, tags=_SNMP_INTERFACE),
    _r("net_drops_in_per_second", "interface", "drops_in_per_second", _RATE.format("ifInDiscards"), snmp=True, tags=_SNMP_INTERFACE),
    _r("net_drops_out_per_second", "interface", "drops_out_per_second", _RATE.format("ifOutDiscards"), snmp=True, tags=_SNMP_INTERFACE),
    _r("net_speed_bits_per_second", "interface", "ifSpeed", "from ifHighSpeed, so not capped at 4.29 Gbit/s like ifSpeed",
       integer=True, snmp=True, tags=_SNMP_INTERFACE),
    _r("net_oper_up", "interface", "oper_up", "1 up, 0 not; Telegraf's `ifOperStatus` is the MIB's enumeration (1 up, 2 down …)",
       snmp=True, tags=_SNMP_INTERFACE),
    _r("net_admin_up", "interface", "admin_up", "1 up, 0 not; Telegraf's `ifAdminStatus` is the MIB's enumeration",
       snmp=True, tags=_SNMP_INTERFACE),
    _r("net_utilisation_percent", "interface", "utilisation_percent", "tag direction = in / out", snmp=True, tags=_SNMP_INTERFACE),
    # ---- the agent's own host interfaces → `net` (tag interface), rates under their own names
    _r("net_recv_bits_per_second", "net", "recv_bits_per_second", "a rate of bits; Telegraf's `bytes_recv` is a counter of bytes"),
    _r("net_sent_bits_per_second", "net", "sent_bits_per_second", "a rate of bits; Telegraf's `bytes_sent` is a counter of bytes"),
    _r("net_recv_packets_per_second", "net", "recv_packets_per_second", _RATE.format("packets_recv")),
    _r("net_sent_packets_per_second", "net", "sent_packets_per_second", _RATE.format("packets_sent")),
    _r("net_errors_in_per_second", "net", "errors_in_per_second", _RATE.format("err_in")),
    _r("net_errors_out_per_second", "net", "errors_out_per_second", _RATE.format("err_out")),
    _r("net_drops_in_per_second", "net", "drops_in_per_second", _RATE.format("drop_in")),
    _r("net_drops_out_per_second", "net", "drops_out_per_second", _RATE.format("drop_out")),
    # ---- temperatures
    _r("sensors_temperature_celsius", "temp", "temp",
       "tags chip and sensor; Telegraf's temp input joins them in one `sensor` tag (coretemp_core_0_input)"),
)

# Vigil's own measurements, all by the default rule; listed for the README.
VIGIL_MEASUREMENTS: tuple[tuple[str, str, str], ...] = (
    ("vigil", "`vigil_poll_up` → `poll_up` (tag poller), `poll_duration_seconds`, `poll_error_info` (tag kind), "
              "`buffer_points`, `buffer_oldest_age_seconds`, `buffer_dropped_points_total` …", "a device answered a poll (1/0); the agent's buffer"),
    ("snmp", "`uptime_seconds`, `info` (tags sys_name, sys_descr, sys_object_id), `profile_info` (tag profile), `bad_values`",
             "what an SNMP device says it is"),
    ("ups", "`battery_charge_percent`, `on_battery`, `battery_remaining_seconds`, `input_voltage_volts`, `output_load_percent` …",
            "UPS-MIB and APC"),
    ("sensors", "`fan_ok`, `fan_rpm`, `power_supply_ok`, `temperature_ok`, `voltage_volts`, `power_watts` … (tags chip, sensor, fan, psu)",
                "device health sensors other than temperatures"),
    (EVENT_MEASUREMENT, "`message` (string), `severity_level` (integer: info 0, warning 1, minor 2, major 3, critical 4); "
                        "tags source, name, severity", "SNMP traps and other events, one point each, for Grafana annotations"),
    (INCIDENT_MEASUREMENT, "reserved: `title`, `state` (strings), `open` (integer); tags incident, check, severity",
                           "incidents, once they exist (not written yet)"),
)


@dataclass(frozen=True, slots=True)
class Target:
    """Where one Vigil series goes: measurement, field, its tags, and the field's type."""

    measurement: str
    field: str
    tags: tuple[tuple[str, str], ...]   # sorted by key, empty values left out
    integer: bool


_BY_METRIC: dict[str, list[Rule]] = {}
for _rule in RULES:
    _BY_METRIC.setdefault(_rule.metric, []).append(_rule)
for _rules in _BY_METRIC.values():
    _rules.sort(key=lambda rule: rule.snmp is None)  # the device-specific rule is tried first


def rule_for(metric: str, snmp_device: bool) -> Rule:
    for rule in _BY_METRIC.get(metric, ()):
        if rule.snmp is None or rule.snmp == snmp_device:
            return rule
    return default_rule(metric)


def default_rule(metric: str) -> Rule:
    measurement, _, field = metric.partition("_")
    return Rule(metric, measurement, field or "value")


def safe_label(key: str) -> str:
    """A label name that cannot be taken for an identity tag or an InfluxDB-reserved key."""
    return f"label_{key}" if key in _RESERVED or key.startswith("_") else key


def target(
    metric: str,
    labels: tuple[tuple[str, str], ...],
    *,
    customer: str,
    site: str,
    agent: str,
    device: str,
    address: str = "",
    snmp_device: bool = False,
) -> Target:
    rule = rule_for(metric, snmp_device)
    renames = dict(rule.tags)
    tags = {safe_label(renames.get(key, key)): value for key, value in labels}
    identity = {"customer": customer, "site": site, "agent": agent, "device": device, "host": device, "agent_host": address}
    tags.update(identity)
    return Target(rule.measurement, rule.field, tuple(sorted((k, v) for k, v in tags.items() if v)), rule.integer)


def markdown_table() -> str:
    """The README's mapping table, generated so it cannot drift from the rules."""
    rows = ["| Vigil metric | InfluxDB measurement.field | type | tags (besides the identity tags) | note |",
            "| --- | --- | --- | --- | --- |"]
    for rule in RULES:
        renames = ", ".join(f"{a} → {b}" for a, b in rule.tags) or "labels as they are"
        where = " (SNMP devices)" if rule.snmp else (" (other devices)" if rule.snmp is False or _has_snmp_twin(rule) else "")
        rows.append(
            f"| `{rule.metric}`{where} | `{rule.measurement}.{rule.field}` | {'integer' if rule.integer else 'float'} "
            f"| {renames} | {rule.note} |"
        )
    return "\n".join(rows)


def _has_snmp_twin(rule: Rule) -> bool:
    return rule.snmp is None and any(other.snmp for other in _BY_METRIC[rule.metric])


def vigil_measurements_table() -> str:
    rows = ["| measurement | fields | what |", "| --- | --- | --- |"]
    rows += [f"| `{name}` | {fields} | {what} |" for name, fields, what in VIGIL_MEASUREMENTS]
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
    print()
    print(vigil_measurements_table())
