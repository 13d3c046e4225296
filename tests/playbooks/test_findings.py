"""Findings: conditions over parsed rows, `once`, computed fields, and the Finding record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from playbooks import SHIPPED
from playbooks.findings import Condition, Rule
from playbooks.library import Finding, Library, ParseError, PlaybookError, load
from playbooks.parsing import compute, number
from playbooks.text import Text

RAW = SHIPPED / "templates"


def _condition(**kwargs: object) -> Condition:
    return Condition(field="value", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("95%", 95.0), ("1,024", 1024.0), ("1000000 Kbit", 1000000.0), ("0.52", 0.52), (" 7 ", 7.0), ("-3", -3.0),
     ("", None), ("-", None), ("--", None), ("Gi1/0/1", None), ("1/0/1", None), ("NA", None), ("12-03:11:52", None)],
)
def test_number(text: str, expected: float | None) -> None:
    assert number(text) == expected


@pytest.mark.parametrize(
    ("condition", "value", "holds"),
    [
        (_condition(above=80), "81", True),
        (_condition(above=80), "80", False),
        (_condition(above=80), "95%", True),
        (_condition(below=10), "9.9", True),
        (_condition(at_least=90), "90", True),
        (_condition(at_most=0), "0", True),
        (_condition(at_most=0), "-2", True),
        (_condition(equals=0), "0", True),
        (_condition(equals=0), "0.0", True),
        (_condition(equals="up"), "up", True),
        (_condition(equals="up"), "UP", False),
        (_condition(equals=""), "", True),
        (_condition(matches="(?i)half"), "Half-duplex", True),
        (_condition(one_of=("Critical",)), "Critical", True),
        (_condition(not_in=("Normal", "Absent")), "Fault", True),
        (_condition(not_in=("Normal", "Absent")), "Normal", False),
        # a value the template did not capture, or not a number, satisfies nothing
        (_condition(not_in=("Normal",)), "", False),
        (_condition(matches="."), "", False),
        (_condition(below=10), "", False),
        (_condition(above=0), "-", False),
        (_condition(equals=0), "", False),
    ],
)
def test_conditions(condition: Condition, value: str, holds: bool) -> None:
    assert condition.holds({"value": value}) is holds


def test_compute() -> None:
    row = {"used": "75", "total": "300", "zero": "0", "blank": "", "text": "n/a"}
    assert compute("used * 100 / total", row) == "25"
    assert compute("(total - used) / 7", row) == "32.14"
    assert compute("used / zero", row) == ""
    assert compute("used + blank", row) == ""
    assert compute("text * 2", row) == ""
    assert compute("-used", row) == "-75"
    assert compute("total * 1000000000", row) == "300000000000"
    assert compute("total * 1e308 * 1e308", row) == ""  # not a number any more


def _rule(**kwargs: object) -> Rule:
    """A rule built outside a playbook file: `reports` is filled in as the loader would."""
    from playbooks import scope

    defaults: dict[str, object] = {
        "severity": "warning",
        "title": Text(zh="{name} 异常", en="{name} is bad"),
        "explanation": Text(zh="值 {value}", en="value {value}"),
        "advice": Text(zh="处理", en="fix it"),
    }
    with scope.reading(scope.Scope(source="test", content_hash="", template_roots=(), step_parsers=None)):
        return Rule(**{**defaults, **kwargs})  # type: ignore[arg-type]


ROWS = [
    {"name": "a", "value": "10"},
    {"name": "b", "value": "95"},
    {"name": "c", "value": "99"},
    {"name": "d", "value": ""},
]


def test_every_matching_row_is_a_finding() -> None:
    findings = _rule(when=(Condition(field="value", above=90),)).evaluate("step", ROWS)
    assert [f.evidence for f in findings] == [{"value": "95", "name": "b"}, {"value": "99", "name": "c"}]
    assert findings[0].title == Text(zh="b 异常", en="b is bad")
    assert findings[0].explanation.en == "value 95"
    assert findings[0].step == "step" and findings[0].severity == "warning"


@pytest.mark.parametrize(("once", "name"), [("first", "b"), ("last", "c")])
def test_once_reports_one_row_and_how_many_matched(once: str, name: str) -> None:
    rule = _rule(
        when=(Condition(field="value", above=90),),
        once=once,
        title=Text(zh="{matched} 个异常，例如 {name}", en="{matched} bad, e.g. {name}"),
    )
    [finding] = rule.evaluate("step", ROWS)
    assert finding.title.en == f"2 bad, e.g. {name}"
    assert finding.evidence["matched"] == "2" and finding.evidence["name"] == name


def test_rows_repeating_the_same_values_give_one_finding() -> None:
    """e.g. a device-wide figure filled down into every process row."""
    rows = [{"total": "93", "process": p} for p in ("a", "b", "c")]
    rule = _rule(
        when=(Condition(field="total", above=80),),
        title=Text(zh="{total}", en="{total}"),
        explanation=Text(zh="x", en="x"),
    )
    assert len(rule.evaluate("cpu", rows)) == 1


def test_all_conditions_must_hold() -> None:
    rule = _rule(when=(Condition(field="value", above=90), Condition(field="name", one_of=("c",))))
    assert [f.evidence["name"] for f in rule.evaluate("step", ROWS)] == ["c"]


def test_finding_round_trips_through_json() -> None:
    finding = Finding(
        step="interfaces",
        severity="major",
        title=Text(zh="接口 Gi1/0/24 有 418221 个 CRC 错误", en="Interface Gi1/0/24 has 418221 CRC errors"),
        explanation=Text(zh="解释", en="explanation"),
        advice=Text(zh="检查线缆或光模块", en="check cabling/optics"),
        evidence={"interface": "Gi1/0/24", "crc": "418221"},
    )
    again = Finding.from_dict(json.loads(json.dumps(finding.to_dict(), ensure_ascii=False)))
    assert again == finding
    with pytest.raises(ValueError, match="unknown severity"):
        Finding.from_dict({**finding.to_dict(), "severity": "disaster"})


# ---------------------------------------------------------------- through a shipped playbook


def test_interface_errors_find_crc_and_advise_cabling(library: Library) -> None:
    playbook = library.get("cisco_ios_interface_errors")
    assert playbook is not None
    output = (RAW / "cisco_ios/show_interfaces/problem_crc_and_half_duplex.raw").read_text()
    rows = playbook.parse("interfaces", "cisco_ios", output)
    assert [r["interface"] for r in rows] == ["GigabitEthernet1/0/23", "GigabitEthernet1/0/24", "GigabitEthernet1/0/25"]
    findings = playbook.findings("cisco_ios", {"interfaces": rows})
    crc = findings[0]
    assert crc.severity == "major"
    assert crc.title.en == "Interface GigabitEthernet1/0/24 has 418221 CRC errors"
    assert crc.title.zh == "接口 GigabitEthernet1/0/24 有 418221 个 CRC 错误"
    assert "cabling" in crc.advice.en and "optics" in crc.advice.en and "光模块" in crc.advice.zh
    assert crc.evidence == {
        "crc": "418221",
        "crc_ppm": "229.53",
        "description": "floor3-ap-07",
        "input_errors": "418577",
        "input_packets": "1822051733",
        "interface": "GigabitEthernet1/0/24",
    }
    assert [(f.severity, f.evidence["interface"]) for f in findings[1:]] == [
        ("minor", "GigabitEthernet1/0/23"),  # output errors (collisions)
        ("minor", "GigabitEthernet1/0/23"),  # half duplex
    ]


def test_findings_of_a_whole_run(library: Library) -> None:
    playbook = library.get("linux_health")
    assert playbook is not None
    outputs = {
        "uptime": "linux/uptime/problem_overloaded_after_restart.raw",
        "memory": "linux/proc_meminfo/problem_low_memory_swapping.raw",
        "disk_space": "linux/df_p/problem_root_and_var_full.raw",
        "inodes": "linux/df_pi/healthy_web.raw",
        "failed_units": "linux/systemctl_failed/problem_two_failed.raw",
        "kernel_errors": "linux/kernel_errors/problem_disk_io_errors.raw",
        "top_processes": "linux/top_batch/problem_runaway_java.raw",
    }
    rows = {step: playbook.parse(step, "linux", (RAW / path).read_text()) for step, path in outputs.items()}
    summary = [(f.step, f.severity, f.title.en) for f in playbook.findings("linux", rows)]
    assert summary == [
        ("uptime", "warning", "High load: 5-minute load average 15.20 on 4 CPUs"),
        ("uptime", "info", "The host restarted within the last 24 hours (up 37 min)"),
        ("memory", "major", "Memory low: only 5.02% available"),
        ("memory", "warning", "81.09% of swap in use"),
        ("disk_space", "major", "Filesystem / is 95% full"),
        ("disk_space", "warning", "Filesystem /var/lib/mysql is 94% full"),
        ("failed_units", "major", "systemd unit nginx.service has failed"),
        ("failed_units", "major", "systemd unit logrotate.service has failed"),
        ("kernel_errors", "major", "The kernel reports disk I/O errors (6 messages)"),
        ("top_processes", "major", "CPU saturated: only 2.6% idle"),
        ("top_processes", "warning", "Process java (PID 4721) uses 687.5% CPU"),
    ]
    # a step whose output is missing (failed, cancelled) simply has no rows
    assert playbook.findings("linux", {}) == []


def test_parse_errors_name_the_step_and_platform(tmp_path: Path) -> None:
    (tmp_path / "templates" / "strict.textfsm").parent.mkdir()
    (tmp_path / "templates" / "strict.textfsm").write_text("Value X (\\d+)\n\nStart\n  ^${X}$$ -> Record\n  ^. -> Error\n")
    (tmp_path / "strict.yaml").write_text(
        "id: strict\ntitle: {zh: 严格, en: Strict}\ndescription: {zh: 严格, en: Strict}\n"
        "platforms: [linux]\nmode: diagnostic\nsteps:\n  - name: numbers\n    command: {linux: seq 3}\n"
        "    timeout: 5\n    parse: {template: strict.textfsm}\n",
        encoding="utf-8",
    )
    playbook = load([tmp_path]).get("strict")
    assert playbook is not None
    assert playbook.parse("numbers", "linux", "1\r\n2\r\n3\r\n") == [{"x": "1"}, {"x": "2"}, {"x": "3"}]
    with pytest.raises(ParseError) as caught:
        playbook.parse("numbers", "linux", "1\nnot a number\n")
    assert (caught.value.step, caught.value.platform) == ("numbers", "linux")
    assert str(caught.value).startswith("playbook strict, step numbers on linux: cannot parse the output:")
    with pytest.raises(PlaybookError, match="playbook strict has no step 'nothing'"):
        playbook.parse("nothing", "linux", "")


def test_a_step_without_parse_gives_no_rows(library: Library) -> None:
    playbook = library.get("reboot_reason")
    assert playbook is not None
    assert playbook.parse("previous_boot_log", "linux", "Nov 19 03:12:44 web-01 kernel: whatever") == []
    assert playbook.parse("reboot_records", "huawei_vrp", "Info: no reboot information.") == []
