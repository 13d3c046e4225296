"""The Telegraf-compatible mapping: Telegraf's names where the figure is the same, never a counter's name for a rate."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from collector.sinks import telegraf

REPO = Path(__file__).resolve().parents[3]

# Telegraf's counters (inputs.net, inputs.diskio, inputs.snmp's IF-MIB examples), which dashboards differentiate.
TELEGRAF_COUNTERS = {
    "bytes_recv", "bytes_sent", "packets_recv", "packets_sent", "err_in", "err_out", "drop_in", "drop_out",
    "reads", "writes", "read_bytes", "write_bytes", "read_time", "write_time", "io_time", "weighted_io_time",
    "ifInOctets", "ifOutOctets", "ifHCInOctets", "ifHCOutOctets", "ifInErrors", "ifOutErrors", "ifInDiscards",
    "ifOutDiscards", "ifInUcastPkts", "ifOutUcastPkts", "ifHCInUcastPkts", "ifHCOutUcastPkts",
}


def _target(metric: str, labels: dict[str, str] | None = None, snmp: bool = False, address: str = "") -> telegraf.Target:
    return telegraf.target(metric, tuple(sorted((labels or {}).items())), customer="C", site="S", agent="a1",
                           device="dev", address=address, snmp_device=snmp)


@pytest.mark.parametrize(
    ("metric", "where"),
    [
        ("cpu_user_percent", "cpu.usage_user"), ("cpu_system_percent", "cpu.usage_system"), ("cpu_iowait_percent", "cpu.usage_iowait"),
        ("system_load1", "system.load1"), ("system_load15", "system.load15"), ("system_n_cpus", "system.n_cpus"),
        ("system_uptime_seconds", "system.uptime"), ("processes_total", "processes.total"),
        ("mem_total_bytes", "mem.total"), ("mem_available_bytes", "mem.available"), ("mem_used_percent", "mem.used_percent"),
        ("swap_used_bytes", "swap.used"), ("disk_free_bytes", "disk.free"), ("disk_used_percent", "disk.used_percent"),
        ("disk_inodes_used_percent", "disk.inodes_used_percent"), ("sensors_temperature_celsius", "temp.temp"),
    ],
)
def test_figures_telegraf_also_collects_take_its_names(metric: str, where: str) -> None:
    t = _target(metric)
    assert f"{t.measurement}.{t.field}" == where


def test_integers_where_telegraf_writes_integers() -> None:
    integers = {f"{r.measurement}.{r.field}" for r in telegraf.RULES if r.integer}
    assert integers == {
        "system.n_cpus", "system.uptime", "processes.total", "mem.total", "mem.available", "mem.used",
        "swap.total", "swap.used", "disk.total", "disk.used", "disk.free", "interface.ifSpeed",
    }


def test_a_rate_never_takes_a_telegraf_counters_name() -> None:
    for rule in telegraf.RULES:
        if rule.metric.endswith("_per_second"):
            assert rule.field not in TELEGRAF_COUNTERS, rule
            assert rule.field.endswith("_per_second") or rule.field == "ifSpeed", rule
    # The default rule keeps the unit too.
    assert _target("diskio_reads_per_second").field == "reads_per_second"


def test_snmp_interfaces_go_to_interface_keyed_by_ifname_host_interfaces_to_net() -> None:
    snmp = _target("net_recv_bits_per_second", {"interface": "Gi1/0/1", "alias": "uplink"}, snmp=True, address="10.0.0.2")
    assert (snmp.measurement, snmp.field) == ("interface", "recv_bits_per_second")
    assert dict(snmp.tags) == {"ifName": "Gi1/0/1", "ifAlias": "uplink", "agent_host": "10.0.0.2", "customer": "C", "site": "S",
                               "agent": "a1", "device": "dev", "host": "dev"}
    host = _target("net_recv_bits_per_second", {"interface": "eth0"})
    assert (host.measurement, host.field, dict(host.tags)["interface"]) == ("net", "recv_bits_per_second", "eth0")


def test_identity_tags_on_every_point_and_labels_never_shadow_them() -> None:
    t = _target("custom_metric_value", {"device": "sdb", "customer": "x", "_internal": "y", "time": "z", "zone": ""})
    tags = dict(t.tags)
    assert (t.measurement, t.field) == ("custom", "metric_value")
    assert {k: tags[k] for k in ("customer", "site", "agent", "device", "host")} == {"customer": "C", "site": "S", "agent": "a1",
                                                                                    "device": "dev", "host": "dev"}
    assert tags["label_device"] == "sdb" and tags["label_customer"] == "x" and tags["label__internal"] == "y"
    assert tags["label_time"] == "z" and "zone" not in tags  # an empty tag cannot be written
    assert list(t.tags) == sorted(t.tags)
    assert dict(_target("disk_used_bytes", {"device": "/dev/sda1", "path": "/"}).tags)["fs_device"] == "/dev/sda1"
    assert _target("up").field == "value"


def test_every_metric_the_agent_sends_has_a_documented_place() -> None:
    """Host poller and SNMP profiles: a rule, or a measurement the README lists for the default rule."""
    sources = list((REPO / "agent" / "pollers").rglob("*.py")) + list((REPO / "agent" / "pollers" / "snmp" / "profiles").glob("*.yaml"))
    metrics = set()
    for path in sources:
        metrics |= set(re.findall(r"(?:metric: |\(\")((?:cpu|mem|swap|disk|diskio|net|system|processes|sensors|snmp|ups|vigil)_[a-z0-9_]+)",
                                  path.read_text()))
    assert len(metrics) > 60
    documented = {name for name, _, _ in telegraf.VIGIL_MEASUREMENTS}
    for metric in metrics:
        ruled = any(rule.metric == metric for rule in telegraf.RULES)
        assert ruled or telegraf.default_rule(metric).measurement in documented, metric


def test_the_readme_shows_the_mapping_as_the_code_has_it() -> None:
    readme = (REPO / "README.md").read_text()
    assert telegraf.markdown_table() in readme, "README's mapping table is out of date: paste `python -m collector.sinks.telegraf`"
    assert telegraf.vigil_measurements_table() in readme
