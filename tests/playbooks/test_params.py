"""Parameters are validated before anything runs; injection attempts are refused naming the parameter."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from playbooks.library import Library, ParamError, PlaybookError, load

INJECTIONS = [
    "; rm -rf /",
    "/var; rm -rf /",
    "/var\nrm -rf /",
    "/var\r\nreload",
    "/var`reboot`",
    "/var$(reboot)",
    "/var${IFS}x",
    "/var|nc evil 1",
    "/var\x1b[2J",
    "/var\t/etc",
    "/var\x00",
    "/var\u202e",  # right-to-left override: invisible in a log line
]


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_into_a_shell_parameter_is_refused(library: Library, value: str) -> None:
    playbook = library.get("linux_disk_full")
    assert playbook is not None
    with pytest.raises(ParamError) as caught:
        playbook.plan("linux", {"mount": value})
    assert caught.value.param == "mount"
    assert str(caught.value).startswith("parameter 'mount': ")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("Gi1/0/1; reload", "contains ';'"),
        ("Gi1/0/1 | include pass", "contains '|'"),
        ("Gi1/0/1`x`", "contains '`'"),
        ("Gi1/0/1$(x)", "contains '$'"),
        ("Gi1/0/1?", "contains '?'"),
        ("Gi1/0/1\nreload", "contains the control character '\\n'"),
        ("Gi1/0/1\rreload", "contains the control character '\\r'"),
        ("Gi1/0/1\treload", "contains the control character '\\t'"),
    ],
)
def test_injection_into_a_cli_parameter_is_refused_whatever_the_pattern(tmp_path: Path, value: str, problem: str) -> None:
    """Even a playbook whose pattern lets anything through cannot pass these to a network CLI."""
    (tmp_path / "loose.yaml").write_text(
        """\
id: loose
title: {zh: 宽松, en: Loose}
description: {zh: 宽松的模式, en: A pattern that allows anything}
platforms: [cisco_ios, huawei_vrp, hp_comware, linux]
mode: diagnostic
params:
  interface: {type: string, pattern: "(?s).*", example: Gi1/0/1}
steps:
  - name: show
    command:
      cisco_ios: show interfaces {interface}
      huawei_vrp: display interface {interface}
      hp_comware: display interface {interface}
      linux: ip link show {interface}
    timeout: 10
""",
        encoding="utf-8",
    )
    playbook = load([tmp_path]).get("loose")
    assert playbook is not None
    for platform in ("cisco_ios", "huawei_vrp", "hp_comware"):
        with pytest.raises(ParamError) as caught:
            playbook.plan(platform, {"interface": value})
        assert caught.value.param == "interface"
        assert problem in caught.value.problem
    if "control character" not in problem:  # on a shell the value is quoted instead, so it stays one word
        [step] = playbook.plan("linux", {"interface": value})
        assert shlex.split(step.command) == ["ip", "link", "show", value]


def test_a_value_that_starts_with_a_dash_is_refused(library: Library) -> None:
    """`ping -f`: quoting does not stop a value being read as an option."""
    playbook = library.get("reachability")
    assert playbook is not None
    with pytest.raises(ParamError, match="must not start with '-'") as caught:
        playbook.plan("agent", {"target": "-f"})
    assert caught.value.param == "target"


def test_pattern_length_enum_and_range(library: Library) -> None:
    reachability = library.get("reachability")
    assert reachability is not None
    with pytest.raises(ParamError, match=r"'exa mple\.com' does not match the pattern") as caught:
        reachability.plan("agent", {"target": "exa mple.com"})
    assert caught.value.param == "target"
    with pytest.raises(ParamError, match="is 300 characters long; at most 253 are allowed"):
        reachability.plan("agent", {"target": "a" * 300})
    with pytest.raises(ParamError, match="21 is above the maximum 20") as caught:
        reachability.plan("agent", {"target": "10.0.0.1", "count": "21"})
    assert caught.value.param == "count"
    with pytest.raises(ParamError, match="'5; id' is not a whole number"):
        reachability.plan("agent", {"target": "10.0.0.1", "count": "5; id"})
    with pytest.raises(ParamError, match="is required") as caught:
        reachability.plan("agent", {})
    assert caught.value.param == "target"
    with pytest.raises(ParamError, match=r"this playbook has no such parameter \(it takes: count, target\)") as caught:
        reachability.plan("agent", {"target": "10.0.0.1", "extra": "x"})
    assert caught.value.param == "extra"


def test_enum(tmp_path: Path) -> None:
    (tmp_path / "enum.yaml").write_text(
        """\
id: enum_test
title: {zh: 枚举, en: Enum}
description: {zh: 枚举参数, en: An enum parameter}
platforms: [linux]
mode: diagnostic
params:
  family: {type: enum, choices: [inet, inet6], default: inet}
steps:
  - name: addresses
    command: {linux: "ip -f {family} address show"}
    timeout: 10
""",
        encoding="utf-8",
    )
    playbook = load([tmp_path]).get("enum_test")
    assert playbook is not None
    assert playbook.plan("linux", {})[0].command == "ip -f inet address show"
    assert playbook.plan("linux", {"family": "inet6"})[0].command == "ip -f inet6 address show"
    with pytest.raises(ParamError, match="'link' is not one of inet, inet6"):
        playbook.plan("linux", {"family": "link"})


def test_values_are_validated_before_any_step_is_planned(library: Library) -> None:
    """plan() returns every command or none: a bad value in one place refuses the whole run."""
    playbook = library.get("reachability")
    assert playbook is not None
    with pytest.raises(ParamError):
        playbook.plan("agent", {"target": "10.0.0.1", "count": "0"})


# ---------------------------------------------------------------- rendering per platform


def test_plan_renders_each_platform(library: Library) -> None:
    errors = library.get("interface_errors")
    assert errors is not None
    assert [s.command for s in errors.plan("cisco_ios", {"interface": "GigabitEthernet1/0/24"})] == [
        "show interfaces GigabitEthernet1/0/24"
    ]
    assert [s.command for s in errors.plan("huawei_vrp", {"interface": "XGigabitEthernet0/0/1"})] == [
        "display interface XGigabitEthernet0/0/1"
    ]
    assert [s.command for s in errors.plan("hp_comware", {"interface": "Ten-GigabitEthernet1/0/25"})] == [
        "display interface Ten-GigabitEthernet1/0/25"
    ]
    # an optional parameter left out leaves out its word
    assert [s.command for s in errors.plan("cisco_ios", {})] == ["show interfaces"]
    [step] = errors.plan("hp_comware", {})
    assert (step.name, step.command, step.timeout_s) == ("interfaces", "display interface", 60.0)


def test_plan_quotes_shell_values(tmp_path: Path) -> None:
    (tmp_path / "quoted.yaml").write_text(
        """\
id: quoted
title: {zh: 引用, en: Quoted}
description: {zh: 含空格的路径, en: A path with a space}
platforms: [linux]
mode: diagnostic
params:
  path: {type: string, pattern: "/[A-Za-z0-9 ._/-]*", example: /srv/My Files}
steps:
  - name: list
    command: {linux: "ls -la {path} | head"}
    timeout: 10
""",
        encoding="utf-8",
    )
    playbook = load([tmp_path]).get("quoted")
    assert playbook is not None
    [step] = playbook.plan("linux", {"path": "/srv/My Files"})
    assert step.command == "ls -la '/srv/My Files' | head"


def test_plan_uses_defaults_and_skips_steps_of_other_platforms(library: Library) -> None:
    reboot = library.get("reboot_reason")
    assert reboot is not None
    assert [s.name for s in reboot.plan("huawei_vrp", {})] == ["version", "reboot_records"]
    assert [s.name for s in reboot.plan("linux", {})] == ["uptime", "boots", "previous_boot_log"]
    disk = library.get("disk_usage")
    assert disk is not None
    assert disk.plan("linux", {})[2].command == "du -x -d 1 -k / 2>/dev/null | sort -rn | head -n 15"
    reach = library.get("reachability")
    assert reach is not None
    assert [s.command for s in reach.plan("agent", {"target": "2001:db8::1", "count": 3})] == [
        "LC_ALL=C ping -c 3 -W 2 2001:db8::1",
        "traceroute -n -w 2 -q 1 -m 20 2001:db8::1",
    ]


def test_unsupported_platform(library: Library) -> None:
    playbook = library.get("linux_health")
    assert playbook is not None
    with pytest.raises(PlaybookError, match=r"playbook linux_health does not support platform 'cisco_ios' \(it supports linux\)"):
        playbook.plan("cisco_ios", {})


def test_every_shipped_playbook_plans_with_its_examples(library: Library) -> None:
    """Every example and default in the shipped files is itself a valid value on every platform."""
    for playbook in library:
        values = {name: param.sample() for name, param in playbook.params.items()}
        for platform in playbook.platforms:
            steps = playbook.plan(platform, {k: v for k, v in values.items() if v is not None})
            assert steps and all(s.command and s.timeout_s >= 1 for s in steps), (playbook.id, platform)
