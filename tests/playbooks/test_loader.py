"""playbooks.library.load: every shipped playbook validates; a bad file is reported as `file:line: field: problem`."""

from __future__ import annotations

import hashlib
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from playbooks import SHIPPED
from playbooks.library import Library, PlaybookError, load
from tests.playbooks.conftest import MINIMAL

REQUIRED = {
    "linux_health": ("linux",),
    "linux_disk_full": ("linux",),
    "cisco_ios_health": ("cisco_ios",),
    "cisco_ios_interface_errors": ("cisco_ios",),
    "huawei_vrp_health": ("huawei_vrp",),
    "hp_comware_health": ("hp_comware",),
    "reachability": ("agent",),
}


def _error(directory: Path) -> str:
    with pytest.raises(PlaybookError) as caught:
        load([directory])
    return str(caught.value)


def test_shipped_playbooks_load(library: Library) -> None:
    for playbook_id, platforms in REQUIRED.items():
        playbook = library.get(playbook_id)
        assert playbook is not None, playbook_id
        assert playbook.platforms == platforms
        assert playbook.mode == "diagnostic"
        assert playbook.title.zh and playbook.title.en and playbook.description.zh and playbook.description.en
    assert [p.id for p in library] == sorted(p.id for p in library.all())


def test_every_shipped_yaml_is_a_playbook(library: Library) -> None:
    assert {p.stem for p in SHIPPED.glob("*.yaml")} == {p.id for p in library}


def test_content_hash_is_sha256_of_the_file_and_stable(library: Library) -> None:
    for playbook in library:
        assert playbook.content_hash == hashlib.sha256(Path(playbook.source).read_bytes()).hexdigest()
    again = load()
    assert {p.id: p.content_hash for p in again} == {p.id: p.content_hash for p in library}


def test_by_hash_finds_only_the_exact_file(library: Library) -> None:
    playbook = library.get("linux_health")
    assert playbook is not None
    assert library.by_hash("linux_health", playbook.content_hash) is playbook
    assert library.by_hash("linux_health", playbook.content_hash.upper()) is playbook
    assert library.by_hash("linux_health", "0" * 64) is None
    assert library.by_hash("no_such_playbook", playbook.content_hash) is None
    assert library.get("no_such_playbook") is None


def test_a_changed_byte_changes_the_hash(write_playbook, tmp_path: Path) -> None:
    write_playbook(MINIMAL.format(id="mine"))
    first = load([tmp_path]).get("mine")
    write_playbook(MINIMAL.format(id="mine") + "# a comment\n")
    second = load([tmp_path]).get("mine")
    assert first is not None and second is not None
    assert first.content_hash != second.content_hash


def test_a_site_folder_adds_and_overrides(write_playbook, tmp_path: Path, library: Library) -> None:
    write_playbook(MINIMAL.format(id="site_special"), "special.yaml")
    write_playbook(MINIMAL.format(id="linux_health"), "override.yaml")
    loaded = load([tmp_path])
    assert "site_special" in loaded and len(loaded) == len(library) + 1
    override = loaded.get("linux_health")
    assert override is not None and override.source == str(tmp_path / "override.yaml")
    assert loaded.by_hash("linux_health", library.get("linux_health").content_hash) is None  # type: ignore[union-attr]


def test_the_library_pickles(library: Library) -> None:
    """The agent may load in a forked child and keep the pickled result, as it does with its config."""
    copy = pickle.loads(pickle.dumps(library))
    playbook = copy.get("cisco_ios_health")
    assert playbook is not None
    assert playbook.parse("memory", "cisco_ios", (SHIPPED / "templates/cisco_ios/show_memory_statistics/healthy_isr2911.raw").read_text())


def test_importing_the_library_stays_light() -> None:
    code = (
        "import sys, playbooks.library; "
        "print(sorted(m for m in ('pydantic', 'yaml', 'textfsm', 'ntc_templates') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# ---------------------------------------------------------------- errors name file, line and field


def test_bad_mode(write_playbook, tmp_path: Path) -> None:
    path = write_playbook(MINIMAL.format(id="x").replace("mode: diagnostic", "mode: readonly"))
    assert _error(tmp_path) == f"{path}:5: mode: Input should be 'diagnostic' or 'change'"


def test_unknown_setting(write_playbook, tmp_path: Path) -> None:
    path = write_playbook(MINIMAL.format(id="x").replace("    timeout: 5", "    timeout: 5\n    timout: 6"))
    assert _error(tmp_path) == f"{path}:11: steps[0].timout: unknown setting (misspelt?)"


def test_unknown_placeholder(write_playbook, tmp_path: Path) -> None:
    path = write_playbook(MINIMAL.format(id="x").replace("linux: uptime", "linux: ls {directory}"))
    assert _error(tmp_path) == (
        f"{path}:9: steps[0].command.linux: unknown placeholder {{directory}}: this playbook's parameters are none"
    )


def test_literal_braces_are_not_placeholders(write_playbook, tmp_path: Path) -> None:
    write_playbook(
        MINIMAL.format(id="x").replace(
            "linux: uptime", """linux: "awk '{ print $1 }' /proc/loadavg; echo ${HOME} {{literal}}\""""
        )
    )
    playbook = load([tmp_path]).get("x")
    assert playbook is not None
    assert playbook.plan("linux", {})[0].command == "awk '{ print $1 }' /proc/loadavg; echo ${HOME} {literal}"


def test_bad_regex_in_a_parameter(write_playbook, tmp_path: Path) -> None:
    text = MINIMAL.format(id="x").replace("linux: uptime", "linux: ls {path}")
    text = text.replace("steps:", 'params:\n  path:\n    type: string\n    pattern: "/[a-z"\n    example: /var\nsteps:')
    path = write_playbook(text)
    assert _error(tmp_path) == (
        f"{path}:9: params.path.pattern: not a valid regular expression: unterminated character set at position 1"
    )


def test_bad_regex_in_a_finding(write_playbook, tmp_path: Path) -> None:
    path = write_playbook(
        """\
        id: x
        title: {zh: 测试, en: Test}
        description: {zh: 测试, en: Test}
        platforms: [linux]
        mode: diagnostic
        steps:
          - name: memory
            command: {linux: cat /proc/meminfo}
            timeout: 5
            parse: {template: linux/proc_meminfo.textfsm}
            findings:
              - when: {field: memtotal_kb, matches: "(unclosed"}
                severity: major
                title: {zh: x, en: x}
                explanation: {zh: x, en: x}
                advice: {zh: x, en: x}
        """
    )
    assert _error(tmp_path) == (
        f"{path}:12: steps[0].findings[0].when[0].matches: "
        "not a valid regular expression: missing ), unterminated subpattern at position 0"
    )


def test_duplicate_id_in_one_folder(write_playbook, tmp_path: Path) -> None:
    first = write_playbook(MINIMAL.format(id="twice"), "a.yaml")
    second = write_playbook(MINIMAL.format(id="twice"), "b.yaml")
    assert _error(tmp_path) == f"{second}:1: id: 'twice' is already the id of {first}"


def test_missing_template(write_playbook, tmp_path: Path) -> None:
    text = MINIMAL.format(id="x") + "    parse:\n      template: linux/nothing_here.textfsm\n"
    path = write_playbook(text)
    assert _error(tmp_path) == (
        f"{path}:12: steps[0].parse.linux: no template 'linux/nothing_here.textfsm' "
        f"in {tmp_path / 'templates'} or {SHIPPED / 'templates'}"
    )


def test_template_that_does_not_compile(write_playbook, tmp_path: Path) -> None:
    (tmp_path / "templates" / "broken.textfsm").write_text("Value X (\\d+\n\nStart\n  ^${X} -> Record\n")
    path = write_playbook(MINIMAL.format(id="x") + "    parse:\n      template: broken.textfsm\n")
    error = _error(tmp_path)
    assert error.startswith(f"{path}:12: steps[0].parse.linux: {tmp_path / 'templates' / 'broken.textfsm'} is not a valid TextFSM template")


def test_template_path_may_not_leave_the_templates_folder(write_playbook, tmp_path: Path) -> None:
    path = write_playbook(MINIMAL.format(id="x") + "    parse:\n      template: ../../etc/passwd\n")
    assert _error(tmp_path) == (
        f"{path}:12: steps[0].parse.linux: '../../etc/passwd': give a path relative to the templates folder, without '..'"
    )


def test_ntc_without_a_template_for_the_command(write_playbook, tmp_path: Path) -> None:
    path = write_playbook(
        """\
        id: x
        title: {zh: 测试, en: Test}
        description: {zh: 测试, en: Test}
        platforms: [huawei_vrp]
        mode: diagnostic
        steps:
          - name: cpu
            command: {huawei_vrp: display cpu-usage}
            timeout: 5
            parse: {ntc: true}
        """
    )
    assert _error(tmp_path) == (
        f"{path}:10: steps[0].parse: huawei_vrp: ntc-templates has no template for 'display cpu-usage' on huawei_vrp; "
        "write one under templates/"
    )


def test_finding_on_a_field_the_template_does_not_have(write_playbook, tmp_path: Path) -> None:
    path = write_playbook(
        """\
        id: x
        title: {zh: 测试, en: Test}
        description: {zh: 测试, en: Test}
        platforms: [cisco_ios]
        mode: diagnostic
        steps:
          - name: version
            command: {cisco_ios: show version}
            timeout: 5
            parse: {ntc: true}
            findings:
              - when: {field: HOSTNAME, matches: .}
                severity: info
                title: {zh: "{hostname}", en: "{hostname} {uptime_seconds}"}
                explanation: {zh: x, en: x}
                advice: {zh: x, en: x}
        """
    )
    error = _error(tmp_path)
    # ntc-templates' Value names are upper case; rows use them in lower case, as parse_output does
    assert error.startswith(f"{path}:12: steps[0].findings[0].when[0].field: 'HOSTNAME' is not a field name")
    (tmp_path / "test.yaml").write_text((tmp_path / "test.yaml").read_text().replace("HOSTNAME", "hostname"))
    assert _error(tmp_path).startswith(
        f"{path}:12: steps[0].findings[0]: title: {{uptime_seconds}}: uptime_seconds is not a field of the "
        "cisco_ios parser (cisco_ios_show_version.textfsm); it has: software_image, version,"
    )


def test_finding_on_a_step_without_parse(write_playbook, tmp_path: Path) -> None:
    text = MINIMAL.format(id="x") + (
        "    findings:\n"
        "      - when: {field: load, above: 1}\n"
        "        severity: info\n"
        "        title: {zh: x, en: x}\n"
        "        explanation: {zh: x, en: x}\n"
        "        advice: {zh: x, en: x}\n"
    )
    path = write_playbook(text)
    assert _error(tmp_path) == (
        f"{path}:12: steps[0].findings[0]: this step has no `parse`, so there are no rows for a finding to look at"
    )


def test_matched_needs_once(write_playbook, tmp_path: Path) -> None:
    path = write_playbook(
        """\
        id: x
        title: {zh: 测试, en: Test}
        description: {zh: 测试, en: Test}
        platforms: [linux]
        mode: diagnostic
        steps:
          - name: units
            command: {linux: systemctl --failed --no-legend}
            timeout: 5
            parse: {template: linux/systemctl_failed.textfsm}
            findings:
              - when: {field: unit, matches: .}
                severity: major
                title: {zh: "{matched} 个", en: "{matched} failed"}
                explanation: {zh: x, en: x}
                advice: {zh: x, en: x}
        """
    )
    assert _error(tmp_path) == (
        f"{path}:12: steps[0].findings[0]: title: {{matched}}: counts the rows a rule with `once` matched; "
        "this rule has no `once`"
    )


def test_compute_over_unknown_fields(write_playbook, tmp_path: Path) -> None:
    path = write_playbook(
        MINIMAL.format(id="x")
        + "    parse:\n      template: linux/proc_meminfo.textfsm\n      compute:\n        pct: memused_kb * 100 / memtotal_kb\n"
    )
    assert _error(tmp_path).startswith(
        f"{path}:12: steps[0].parse.linux: compute.pct: memused_kb is not a field of proc_meminfo.textfsm"
    )


def test_compute_is_arithmetic_only(write_playbook, tmp_path: Path) -> None:
    path = write_playbook(
        MINIMAL.format(id="x")
        + "    parse:\n      template: linux/proc_meminfo.textfsm\n      compute:\n        x: \"__import__('os').system('id')\"\n"
    )
    assert _error(tmp_path) == (
        f"{path}:12: steps[0].parse.linux: compute.x: \"__import__('os').system('id')\": "
        "only + - * / ( ) over field names and numbers are allowed"
    )


def test_placeholder_inside_shell_quotes(write_playbook, tmp_path: Path) -> None:
    text = MINIMAL.format(id="x").replace("linux: uptime", """linux: "ls -l '{path}'\"""")
    text = text.replace("steps:", "params:\n  path: {type: string, pattern: '/[a-z/]*', example: /var}\nsteps:")
    path = write_playbook(text)
    assert _error(tmp_path) == (
        f"{path}:11: steps[0].command.linux: {{path}} is inside quotes; write it bare, every value is shell-quoted"
    )


def test_command_for_a_platform_the_playbook_does_not_name(write_playbook, tmp_path: Path) -> None:
    path = write_playbook(MINIMAL.format(id="x").replace("linux: uptime", "linux: uptime\n      cisco_ios: show clock"))
    assert _error(tmp_path) == (
        f"{path}:9: steps[0].command: cisco_ios: not one of the playbook's platforms (linux)"
    )


def test_unused_parameter_and_duplicate_step(write_playbook, tmp_path: Path) -> None:
    text = MINIMAL.format(id="x").replace("steps:", "params:\n  count: {type: integer, default: 3}\nsteps:")
    path = write_playbook(text)
    assert _error(tmp_path) == f"{path}:7: params.count: no command uses it"
    path = write_playbook(MINIMAL.format(id="x") + "  - name: one\n    command: {linux: id}\n    timeout: 5\n")
    assert _error(tmp_path) == f"{path}:11: steps[1].name: another step is already called 'one'"


def test_every_problem_of_every_file_at_once(write_playbook, tmp_path: Path) -> None:
    one = write_playbook(MINIMAL.format(id="x").replace("timeout: 5", "timeout: 0"), "one.yaml")
    two = write_playbook(MINIMAL.format(id="y").replace("platforms: [linux]", "platforms: [junos]"), "two.yaml")
    error = _error(tmp_path)
    assert error.splitlines() == [
        f"{one}:10: steps[0].timeout: must be at least 1",
        f"{two}:4: platforms[0]: Input should be 'linux', 'cisco_ios', 'huawei_vrp', 'hp_comware' or 'agent'",
    ]


def test_a_string_parameter_needs_a_pattern_and_an_example(write_playbook, tmp_path: Path) -> None:
    text = MINIMAL.format(id="x").replace("linux: uptime", "linux: ls {path}")
    path = write_playbook(text.replace("steps:", "params:\n  path: {type: string, example: /var}\nsteps:"))
    assert _error(tmp_path) == (
        f"{path}:7: params.path: pattern: a string parameter needs a pattern that its values must match"
    )
    path = write_playbook(text.replace("steps:", "params:\n  path: {type: string, pattern: '/[a-z]*'}\nsteps:"))
    assert _error(tmp_path) == (
        f"{path}:7: params.path: example: a string parameter without a default needs an example value"
    )
    path = write_playbook(text.replace("steps:", "params:\n  path: {type: string, pattern: '/[a-z]*', example: /v;r}\nsteps:"))
    assert _error(tmp_path).startswith(f"{path}:7: params.path: example: contains ';'")
