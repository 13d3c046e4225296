"""agent/pollers/ssh/model.py, cli.py, definitions/ and templates/: CLI polling definitions as data.

The promise checked here: a switch polled over the CLI produces the SNMP
profiles' metric names, with label keys the SNMP series of that name have,
so checks and reports cannot tell the two apart.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.configfile import ConfigError
from agent.pollers.snmp.profiles import load_profiles
from agent.pollers.ssh.cli import CliExtractor, ios_short_name
from agent.pollers.ssh.model import OWN_TEMPLATES, load_definitions
from playbooks.fixtures import cases, render
from tests.peers.fakenos import EXTRA_COMMANDS

SNMP_PROFILE = {"cisco_ios": "cisco", "huawei_vrp": "huawei", "hp_comware": "h3c"}
HOST_POLLER_NAMES = {"mem_available_bytes"}      # a figure the host poller has and the CLI gives too


def _snmp_metrics(profile_name: str) -> dict[str, set[str]]:
    """Metric name → the label keys an SNMP poll with this profile gives it."""
    profile = load_profiles().profiles[profile_name]
    found: dict[str, set[str]] = {}
    for group in [*profile.scalars.values(), *profile.tables.values()]:
        for metric in group.metrics:
            keys = {metric.relabel.get(k, k) for k in group.labels} - {None}
            found.setdefault(metric.metric, set()).update(keys | set(metric.labels))  # type: ignore[arg-type]
    return found


def test_every_shipped_definition_loads() -> None:
    definitions = load_definitions()
    assert set(definitions) == {"cisco_ios", "huawei_vrp", "hp_comware"}
    for definition in definitions.values():
        for command in definition.commands.values():
            assert Path(command.path).is_file()


@pytest.mark.parametrize("platform", ["cisco_ios", "huawei_vrp", "hp_comware"])
def test_definitions_use_the_snmp_profiles_names_and_label_keys(platform: str) -> None:
    snmp = _snmp_metrics(SNMP_PROFILE[platform])
    definition = load_definitions()[platform]
    for command in definition.commands.values():
        row_keys = set(command.labels)
        for metric in command.metrics:
            keys = {metric.relabel.get(k, k) for k in row_keys} - {None} | set(metric.labels)
            if metric.metric in HOST_POLLER_NAMES or metric.metric in {"mem_total_bytes", "mem_used_bytes"}:
                continue            # bytes where this vendor's SNMP gives only a percentage (Cisco's names)
            assert metric.metric in snmp, f"{platform}: {metric.metric} is not a metric of the SNMP profile"
            assert keys <= snmp[metric.metric] | {"alias"}, f"{platform}: {metric.metric} labels {keys} vs {snmp[metric.metric]}"


def test_own_templates_parse_their_recorded_outputs() -> None:
    checked = 0
    for case in cases(OWN_TEMPLATES):
        assert render(case.parse()) == case.expected_file.read_text(encoding="utf-8"), case.name
        checked += 1
    assert checked >= 9


def _extract(platform: str, outputs: dict[str, str], at_s: float, extractor: CliExtractor | None = None) -> dict:
    extractor = extractor or CliExtractor(load_definitions()[platform])
    samples: list = []
    seen: set = set()
    for plan in extractor.plans:
        if plan.command.command in outputs:
            extractor.extract(plan, outputs[plan.command.command], at_s, samples, seen)
    assert len({(name, labels) for name, labels, _ in samples}) == len(samples)    # no series twice
    got: dict = {}
    for name, labels, value in samples:
        got.setdefault(name, {})[labels] = value
    return got


def _raw(relative: str) -> str:
    return (OWN_TEMPLATES / relative).read_text(encoding="utf-8")


def test_cisco_rows_become_metrics() -> None:
    extractor = CliExtractor(load_definitions()["cisco_ios"])
    outputs = {
        "show processes cpu sorted": EXTRA_COMMANDS["cisco_ios"]["show processes cpu sorted"]["output"],
        "show environment all": EXTRA_COMMANDS["cisco_ios"]["show environment all"]["output"],
        "show interfaces": _raw("cisco_ios/show_interfaces/admin_down.raw"),
    }
    first = _extract("cisco_ios", outputs, 1000.0, extractor)
    assert first["cpu_usage_percent"] == {(("cpu", "1"),): 5.0}          # once, though every process row has it
    assert first["sensors_fan_ok"] == {(("fan", "Switch 1 FAN 1"),): 1.0, (("fan", "Switch 1 FAN 2"),): 1.0,
                                       (("fan", "Switch 1 FAN 3"),): 0.0, (("fan", "Switch 1 FAN PS-1"),): 1.0}
    assert first["sensors_power_supply_ok"] == {(("psu", "1A"),): 1.0}    # "Not Present": no sample, as SNMP
    assert first["sensors_temperature_ok"] == {(("chip", "cisco-envmon"), ("sensor", "Switch 1 SYSTEM TEMPERATURE")): 1.0}
    gi24 = (("alias", "spare - was printer room"), ("interface", "Gi1/0/24"))
    assert first["net_admin_up"][gi24] == 0.0 and first["net_oper_up"][gi24] == 0.0
    assert first["net_speed_bits_per_second"][gi24] == 1e9
    assert "net_recv_bits_per_second" not in first                      # counters need two polls
    later = _raw("cisco_ios/show_interfaces/admin_down.raw").replace("41022331879 bytes", "41022631879 bytes")
    second = _extract("cisco_ios", {**outputs, "show interfaces": later}, 1010.0, extractor)
    vlan = (("alias", "users-floor2"), ("interface", "Vl20"))
    assert second["net_recv_bits_per_second"][vlan] == pytest.approx(300000 * 8 / 10)
    assert second["net_utilisation_percent"][(("alias", "users-floor2"), ("direction", "in"), ("interface", "Vl20"))] \
        == pytest.approx(100 * 300000 * 8 / 10 / 1e9)
    # `clear counters` on the device: "Last clearing" changes, that interval gives no rate.
    cleared = later.replace('counters never', 'counters 00:00:04').replace("41022631879 bytes", "41022931879 bytes")
    third = _extract("cisco_ios", {**outputs, "show interfaces": cleared}, 1020.0, extractor)
    assert vlan not in third.get("net_recv_bits_per_second", {})


def test_huawei_and_comware_rows_become_metrics() -> None:
    huawei = _extract("huawei_vrp", {
        "display cpu-usage": EXTRA_COMMANDS["huawei_vrp"]["display cpu-usage"]["output"],
        "display memory-usage": EXTRA_COMMANDS["huawei_vrp"]["display memory-usage"]["output"],
        "display fan": EXTRA_COMMANDS["huawei_vrp"]["display fan"]["output"],
        "display power": EXTRA_COMMANDS["huawei_vrp"]["display power"]["output"],
        "display interface": _raw("huawei_vrp/display_interface/admin_down.raw"),
    }, 1000.0)
    assert huawei["cpu_usage_percent"] == {(("cpu", "0"),): 12.0}
    assert huawei["mem_used_percent"] == {(("entity", "0"),): 43.0}
    assert huawei["mem_total_bytes"] == {(("entity", "0"),): 487469056.0}
    assert huawei["sensors_fan_ok"] == {(("fan", "0.1"),): 1.0}           # slot.number, as hwEntityFanTable's index
    assert huawei["sensors_fan_speed_percent"] == {(("fan", "0.1"),): 45.0}
    assert huawei["sensors_power_supply_ok"] == {(("psu", "0.1"),): 1.0}  # PWR2 is absent: no sample
    gi12 = (("alias", "unused"), ("interface", "GigabitEthernet0/0/12"))
    assert huawei["net_admin_up"][gi12] == 0.0 and huawei["net_speed_bits_per_second"][gi12] == 1e9
    comware = _extract("hp_comware", {
        "display cpu-usage": EXTRA_COMMANDS["hp_comware"]["display cpu-usage"]["output"],
        "display memory": EXTRA_COMMANDS["hp_comware"]["display memory"]["output"],
        "display fan": EXTRA_COMMANDS["hp_comware"]["display fan"]["output"],
        "display power": EXTRA_COMMANDS["hp_comware"]["display power"]["output"],
    }, 1000.0)
    assert comware["cpu_usage_percent"] == {(("cpu", "slot 1 cpu 0"),): 5.0}
    assert comware["mem_used_percent"][(("entity", "slot 1"),)] == pytest.approx(100 * 542128 / 1003476)
    assert comware["sensors_fan_ok"] == {(("fan", "1"),): 1.0}            # fan 2 absent: no sample
    assert comware["sensors_power_supply_ok"] == {(("psu", "1"),): 1.0}


def test_ios_short_names_match_ifname() -> None:
    assert ios_short_name("GigabitEthernet1/0/1") == "Gi1/0/1"
    assert ios_short_name("TenGigabitEthernet1/1/1") == "Te1/1/1"
    assert ios_short_name("Vlan20") == "Vl20"
    assert ios_short_name("Port-channel1") == "Po1"
    assert ios_short_name("GigabitEthernet") == "GigabitEthernet"      # not followed by a number: left alone


def test_a_bad_definition_is_named_by_file_line_and_field(tmp_path: Path) -> None:
    (tmp_path / "acme.yaml").write_text(
        "platform: huawei_vrp\n"
        "commands:\n"
        "  cpu:\n"
        "    command: display cpu-usage\n"
        "    template: huawei_vrp/display_cpu-usage.textfsm\n"
        "    metrics:\n"
        "      - metric: cpu_usage_percent\n"
        "        gauge: cpu_usgae\n"
        "  fans:\n"
        "    command: display fan\n"
        "    template: huawei_vrp/no_such.textfsm\n"
        "    metrics:\n"
        "      - {metric: sensors_fan_ok, state: status}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_definitions(tmp_path)
    text = str(caught.value)
    assert f"{tmp_path / 'acme.yaml'}:13: commands.fans.metrics[0]: a state metric needs map" in text
    (tmp_path / "acme.yaml").write_text("\n".join(
        line for line in (tmp_path / "acme.yaml").read_text().splitlines()[:8]) + "\n")
    with pytest.raises(ConfigError) as caught:
        load_definitions(tmp_path)
    assert f"{tmp_path / 'acme.yaml'}:7: commands.cpu.metrics[0]: display_cpu-usage.textfsm has no field 'cpu_usgae'" \
        in str(caught.value)
