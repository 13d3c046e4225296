"""agent/pollers/snmp/profiles.py: loading, checking, extending and selecting SNMP profiles."""

from __future__ import annotations

import pickle
import re
import subprocess
import sys
from pathlib import Path

import pytest

from agent.configfile import ConfigError
from agent.pollers.snmp.profiles import SHIPPED_DIR, ProfileSet, compile_expression, load_profiles
from agent.pollers.snmp.types import parse_oid

REPO = Path(__file__).resolve().parents[3]
METRIC_NAME = re.compile(r"[a-z][a-z0-9]*_[a-z0-9_]*[a-z0-9]")
OID = re.compile(r"(?<![\w.\"])\d+(?:\.\d+){3,}")  # an OID outside quotes (quoted ones are compared in `where`)


@pytest.fixture(scope="module")
def shipped() -> ProfileSet:
    return load_profiles()


def _write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def _error(extra: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_profiles(extra)
    return str(caught.value)


# ---------------------------------------------------------------- the shipped profiles


def test_every_shipped_profile_loads_and_names_its_metrics_by_the_readme_scheme(shipped: ProfileSet) -> None:
    files = sorted(SHIPPED_DIR.glob("*.yaml"))
    assert {p.name for p in files} >= {
        "generic.yaml", "host-resources.yaml", "ucd-snmp.yaml", "entity-sensor.yaml", "net-snmp.yaml",
        "windows.yaml", "ups.yaml", "apc.yaml", "cisco.yaml", "huawei.yaml", "h3c.yaml",
    }
    assert len(shipped.profiles) == len(files)
    for profile in shipped.profiles.values():
        assert profile.description
        for group in [*profile.scalars.values(), *profile.tables.values()]:
            for metric in group.metrics:
                assert METRIC_NAME.fullmatch(metric.metric), (profile.name, metric.metric)


def test_every_oid_in_a_shipped_profile_is_numeric_and_commented() -> None:
    """Symbolic names would make pysnmp fetch MIBs; a comment names the object for the reader."""
    for path in sorted(SHIPPED_DIR.glob("*.yaml")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code, _, comment = line.partition("#")
            oid = OID.search(code)
            if oid:
                assert comment.strip(), f"{path.name}:{number}: say which MIB object {oid.group()} is"


def test_a_resolved_profile_lists_what_to_get_and_what_to_walk(shipped: ProfileSet) -> None:
    cisco = shipped.profiles["cisco"]
    assert parse_oid("1.3.6.1.2.1.1.3.0") in cisco.get_oids            # sysUpTime, from generic
    interfaces = cisco.walks["interfaces"]
    assert parse_oid("1.3.6.1.2.1.31.1.1.1.6") in interfaces            # ifHCInOctets
    assert parse_oid("1.3.6.1.2.1.2.2.1.10") in interfaces              # ifInOctets, its 32-bit fallback
    assert cisco.walks["cisco_cpu"] == (
        parse_oid("1.3.6.1.4.1.9.9.109.1.1.1.1.8"),
        parse_oid("1.3.6.1.4.1.9.9.109.1.1.1.1.2"),
        parse_oid("1.3.6.1.2.1.47.1.1.1.1.7"),
    )
    assert "entity_sensors" in cisco.walks                              # extends entity-sensor
    assert len(set(interfaces)) == len(interfaces)


def test_the_standard_traps_are_named(shipped: ProfileSet) -> None:
    generic = shipped.profiles["generic"].traps
    named = {(trap.event, trap.severity) for trap in generic.values()}
    assert named >= {("cold_start", "warning"), ("link_down", "major")}
    assert generic[parse_oid("1.3.6.1.6.3.1.1.5.4")].clears == "link_down"
    ups = shipped.profiles["ups"].traps
    on_battery = ups[parse_oid("1.3.6.1.2.1.33.2.1")]
    assert on_battery.event == "ups_on_battery" and on_battery.message.zh
    assert parse_oid("1.3.6.1.6.3.1.1.5.1") in shipped.profiles["cisco"].traps   # inherited
    assert shipped.profiles["cisco"].traps[parse_oid("1.3.6.1.4.1.9.9.13.3.0.4")].event == "fan_alarm"


def test_the_loaded_set_pickles_and_loading_needs_no_pydantic_at_run_time(shipped: ProfileSet) -> None:
    assert pickle.loads(pickle.dumps(shipped)) == shipped
    code = (
        "import sys, pickle; from agent.pollers.snmp import extract, profiles; "
        "assert 'pydantic' not in sys.modules, 'imported pydantic'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


# ---------------------------------------------------------------- selection


@pytest.mark.parametrize(
    ("sys_object_id", "expected"),
    [
        ("1.3.6.1.4.1.9.1.2066", "cisco"),            # Catalyst 9300
        ("1.3.6.1.4.1.9.12.3.1.3.1812", "cisco"),     # Nexus
        ("1.3.6.1.4.1.2011.2.23.96", "huawei"),       # S5700
        ("1.3.6.1.4.1.25506.11.1.136", "h3c"),        # HPE/H3C Comware 7
        ("1.3.6.1.4.1.8072.3.2.10", "net-snmp"),      # net-snmp on Linux
        ("1.3.6.1.4.1.318.1.3.27", "apc"),            # APC Smart-UPS
        ("1.3.6.1.4.1.311.1.1.3.1.2", "windows"),
        ("1.3.6.1.4.1.90", "generic"),                # a prefix is whole arcs: 90 is not Cisco's 9
        ("1.3.6.1.4.1.99999.1", "generic"),
    ],
)
def test_selection_by_sys_object_id_prefix(shipped: ProfileSet, sys_object_id: str, expected: str) -> None:
    assert shipped.select(parse_oid(sys_object_id), "").name == expected


def test_sys_descr_is_the_fallback_when_no_prefix_matches(shipped: ProfileSet) -> None:
    appliance = parse_oid("1.3.6.1.4.1.99999.1")
    assert shipped.select(appliance, "Linux nas-01 5.10.60 #1 SMP x86_64").name == "net-snmp"
    assert shipped.select(appliance, "Network Management Card for UPS").name == "ups"
    # A matching prefix beats any sysDescr.
    assert shipped.select(parse_oid("1.3.6.1.4.1.9.1.1"), "Linux inside").name == "cisco"


def test_a_forced_profile_wins_and_an_unknown_one_is_an_error(shipped: ProfileSet) -> None:
    assert shipped.select(parse_oid("1.3.6.1.4.1.9.1.1"), "", forced="ups").name == "ups"
    with pytest.raises(ConfigError, match="no SNMP profile named 'nope'"):
        shipped.select(parse_oid("1.3.6.1.4.1.9.1.1"), "", forced="nope")


def test_the_longest_prefix_wins(tmp_path: Path) -> None:
    _write(tmp_path, "catalyst.yaml", """\
name: catalyst-9300
description: one Cisco family with something extra
extends: [cisco]
match:
  sysobjectid: [1.3.6.1.4.1.9.1.2066]   # cat9300
""")
    profiles = load_profiles(tmp_path)
    assert profiles.select(parse_oid("1.3.6.1.4.1.9.1.2066"), "").name == "catalyst-9300"
    assert profiles.select(parse_oid("1.3.6.1.4.1.9.1.2067"), "").name == "cisco"
    assert profiles.profiles["catalyst-9300"].tables.keys() == profiles.profiles["cisco"].tables.keys()


# ---------------------------------------------------------------- extra folder


def test_a_profile_in_the_extra_folder_replaces_the_shipped_one_of_that_name(tmp_path: Path) -> None:
    _write(tmp_path, "my-generic.yaml", """\
name: generic
description: only uptime, for a site that wants less
scalars:
  system:
    columns:
      uptime: 1.3.6.1.2.1.1.3.0   # sysUpTime.0
    metrics:
      - {metric: snmp_uptime_seconds, gauge: uptime, scale: 0.01}
""")
    profiles = load_profiles(tmp_path)
    assert profiles.profiles["generic"].tables == {}
    assert profiles.profiles["generic"].source == str(tmp_path / "my-generic.yaml")
    assert "interfaces" not in profiles.profiles["cisco"].tables      # cisco extends the replacement
    assert "cisco_cpu" in profiles.profiles["cisco"].tables


def test_two_files_in_one_folder_may_not_share_a_name(tmp_path: Path) -> None:
    for file in ("a.yaml", "b.yaml"):
        _write(tmp_path, file, "name: twin\ndescription: x\n")
    assert f"{tmp_path / 'b.yaml'}:1: name: 'twin' is also the name in {tmp_path / 'a.yaml'}" in _error(tmp_path)


def test_two_profiles_may_not_claim_the_same_prefix(tmp_path: Path) -> None:
    _write(tmp_path, "clone.yaml", "name: clone\nmatch:\n  sysobjectid: [1.3.6.1.4.1.9]   # cisco\n")
    assert "1.3.6.1.4.1.9 is also matched by profile 'cisco'" in _error(tmp_path)


def test_a_missing_extra_folder_is_an_error(tmp_path: Path) -> None:
    assert "no such folder" in _error(tmp_path / "absent")


# ---------------------------------------------------------------- broken files


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: x\nscalar: {}\n", ":2: scalar: unknown setting (misspelt?)"),
        (
            "name: x\nscalars:\n  s:\n    columns:\n      up: 1.3.six.1   # bad\n",
            ":5: scalars.s.columns.up: '1.3.six.1' is not a numeric OID",
        ),
        (
            "name: x\nscalars:\n  s:\n    columns:\n      up: 1.3   # a float to YAML\n",
            ":5: scalars.s.columns.up: 1.3 reads as a number, not an OID; put the OID in quotes",
        ),
        (
            "name: x\nscalars:\n  s:\n    columns:\n      up: 1.3.6.1.2.1.1.3.0   # sysUpTime\n"
            "    metrics:\n      - metric: snmp_uptime_seconds\n        gauge: uptme\n",
            ":7: scalars.s.metrics[0]: no column named 'uptme' in this group (columns: up)",
        ),
        (
            "name: x\nscalars:\n  s:\n    columns:\n      up: 1.3.6.1.2.1.1.3.0   # sysUpTime\n"
            "    metrics:\n      - metric: snmp_uptime_seconds\n        gauge: up\n        rate: up\n",
            ":7: scalars.s.metrics[0]: give exactly one of gauge, rate, state or expr (got gauge, rate)",
        ),
        (
            "name: x\nscalars:\n  s:\n    columns:\n      up: 1.3.6.1.2.1.1.3.0   # sysUpTime\n"
            "    metrics:\n      - metric: snmp_evil\n        expr: __import__('os').system('id')\n",
            ":8: scalars.s.metrics[0].expr[0]: the only function is rate(column)",
        ),
        (
            "name: x\nscalars:\n  s:\n    columns:\n      up: 1.3.6.1.2.1.1.3.0   # sysUpTime\n"
            "    metrics:\n      - metric: snmp_evil\n        expr: up.__class__\n",
            ":8: scalars.s.metrics[0].expr[0]: Attribute is not allowed in an expression",
        ),
        (
            "name: x\nscalars:\n  s:\n    columns:\n      up: 1.3.6.1.2.1.1.3.0   # sysUpTime\n"
            "    metrics:\n      - metric: Uptime\n        gauge: up\n",
            ":7: scalars.s.metrics[0].metric: 'Uptime' is not a metric name",
        ),
        (
            "name: x\ntables:\n  t:\n    columns:\n      name: 1.3.6.1.2.1.31.1.1.1.1   # ifName\n"
            "    labels:\n      interface: [nmae, index]\n",
            ":7: tables.t.labels.interface: no column named 'nmae'",
        ),
        (
            "name: x\ntraps:\n  - oid: 1.3.6.1.6.3.1.1.5.1   # coldStart\n"
            "    event: cold_start\n    severity: warning\n    message:\n      en: \"{device} restarted, {why}\"\n",
            ":7: traps[0].message.en: {why} is not a field of this trap or {device}",
        ),
        ("name: x\nmatch:\n  sysdescr: ['(unclosed']\n", ":3: match.sysdescr[0]: not a regular expression"),
    ],
)
def test_a_broken_profile_is_reported_as_file_line_field_problem(tmp_path: Path, text: str, expected: str) -> None:
    path = _write(tmp_path, "broken.yaml", text)
    assert f"{path}{expected}" in _error(tmp_path)


def test_every_broken_file_is_reported_at_once(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", "name: a\nbogus: 1\n")
    _write(tmp_path, "b.yaml", "name: b\nextends: 3\nmatch: []\n")
    error = _error(tmp_path)
    assert f"{tmp_path / 'a.yaml'}:2: bogus" in error
    assert f"{tmp_path / 'b.yaml'}:3: match" in error


def test_an_extends_cycle_names_the_file_and_line(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", "name: a\nextends: [generic, b]\n")
    _write(tmp_path, "b.yaml", "name: b\nextends:\n  - a\n")
    error = _error(tmp_path)
    assert f"{tmp_path / 'a.yaml'}:2: extends[1]: extends itself: a → b → a" in error
    assert f"{tmp_path / 'b.yaml'}:3: extends[0]: extends itself: b → a → b" in error


def test_a_profile_extending_itself_or_an_unknown_name_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", "name: a\nextends: [a]\n")
    _write(tmp_path, "b.yaml", "name: b\nextends: [generic, cisko]\n")
    error = _error(tmp_path)
    assert f"{tmp_path / 'a.yaml'}:2: extends[0]: extends itself: a → a" in error
    assert f"{tmp_path / 'b.yaml'}:2: extends[1]: no profile named 'cisko'" in error


# ---------------------------------------------------------------- expressions


def test_expressions_compile_to_arithmetic_on_floats() -> None:
    code = compile_expression("rate(in_octets) * 8 * 100 / (speed * 1000000)")
    row = {"_r_in_octets": 125_000.0, "speed": 1000.0}
    assert eval(code, {"__builtins__": {}}, row) == pytest.approx(0.1)  # noqa: S307
    with pytest.raises(OverflowError):   # a device's huge exponent fails fast instead of computing for minutes
        eval(compile_expression("10 ** (3 * scale)"), {"__builtins__": {}}, {"scale": 2.0**31})  # noqa: S307
