"""Remote diagnosis end to end: `vigil run` → collector → agent → sshd / fakenos, and back, on 127.0.0.1.

One collector, one agent and the SSH peers serve the whole module. The
agent's inventory: two Linux servers behind Debian's sshd (one of them
allowed to take change playbooks), a Cisco IOS and a Huawei VRP switch from
fakenos. Besides the shipped playbooks, the agent and the CLI load a few
test playbooks written below (a config dump with secrets in it, a slow
command, a change).

Refusals are tested by writing runs straight into the store, the way a
compromised or buggy collector could: the CLI would refuse most of them
first, and the point is that the agent refuses them too.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from collector.runs import records
from collector.store import database
from playbooks import SHIPPED
from playbooks.library import load
from tests.e2e.test_end_to_end import agent_yaml, collector_yaml
from tests.peers.fakenos import FakeNos
from tests.peers.sshd import Sshd
from tests.peers.vigil import REPO, Agent, Collector, wait_until

pytestmark = pytest.mark.integration

COMMUNITY, PASSWORD = "s3cretCommunity", "hunter2pass"
TEST_PLAYBOOKS = {
    "test_show_config.yaml": """
id: test_show_config
title: {zh: 显示配置文件, en: Show a config file}
description: {zh: 测试用, en: For tests}
platforms: [linux]
mode: diagnostic
params:
  path: {type: string, pattern: "/[A-Za-z0-9._/-]+", max_length: 200, example: /etc/hosts, description: {zh: 路径, en: path}}
steps:
  - name: show
    command: {linux: "cat {path}"}
    timeout: 10
""",
    "test_filesystems.yaml": """
id: test_filesystems
title: {zh: 文件系统（录制的输出）, en: Filesystems (recorded output)}
description: {zh: 测试用, en: For tests}
platforms: [linux]
mode: diagnostic
params:
  path: {type: string, pattern: "/[A-Za-z0-9._/-]+", max_length: 200, example: /etc/hosts, description: {zh: 路径, en: path}}
steps:
  - name: space
    command: {linux: "cat {path}"}
    timeout: 10
    parse: {template: linux/df_p.textfsm}
    findings:
      - when: {field: capacity_pct, at_least: 90}
        severity: major
        title: {zh: "文件系统 {mounted_on} 已用 {capacity_pct}%", en: "Filesystem {mounted_on} is {capacity_pct}% full"}
        explanation: {zh: "只剩 {available_kb} KiB。", en: "Only {available_kb} KiB left."}
        advice: {zh: 清理或扩容。, en: Clean up or grow it.}
""",
    "test_slow.yaml": """
id: test_slow
title: {zh: 慢命令, en: A slow command}
description: {zh: 测试用, en: For tests}
platforms: [linux]
mode: diagnostic
params:
  seconds: {type: integer, min: 1, max: 120, description: {zh: 秒, en: seconds}}
steps:
  - name: first
    command: {linux: "echo started; sleep {seconds}; echo slept"}
    timeout: 5
""",
    "test_change.yaml": """
id: test_change
title: {zh: 一次变更, en: A change}
description: {zh: 测试用, en: For tests}
platforms: [linux]
mode: change
steps:
  - name: change
    command: {linux: "echo changed"}
    timeout: 10
""",
}
DF = """Filesystem     1024-blocks     Used Available Capacity Mounted on
/dev/sda1         41152832 39094190   2058642      95% /var
tmpfs              1638400        0   1638400       0% /dev/shm
"""


@dataclass
class Site:
    collector: Collector
    agent: Agent
    db: str
    playbooks: Path
    files: Path

    def cli(self, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "collector.cli.main", "--db", self.db, *args], capture_output=True, text=True,
            cwd=REPO, timeout=timeout, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "VIGIL_USER": "li.wei",
                                            "VIGIL_PLAYBOOKS": str(self.playbooks)},
        )

    def engine(self):  # type: ignore[no-untyped-def]
        return database.connect(self.db)


def _device(device_id: str, platform: str, port: int, login: str, extra: str = "") -> str:
    kind = "server" if platform == "linux" else "switch"
    return (f"  - {{id: {device_id}, kind: {kind}, address: 127.0.0.1, platform: {platform}{extra},\n"
            f"     ssh: {{port: {port}, {login}, timeout: 5s}}}}\n")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, pki: Path) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("diagnosis")
    playbooks, files = root / "playbooks", root / "files"
    playbooks.mkdir()
    files.mkdir()
    for name, text in TEST_PLAYBOOKS.items():
        (playbooks / name).write_text(text)
    (files / "router.cfg").write_text(
        f"hostname edge-1\nsnmp-server community {COMMUNITY} RO\nusername admin privilege 15 password 0 {PASSWORD}\n"
        "interface Gi0/1\n description uplink\n"
    )
    (files / "df.txt").write_text(DF)
    with Sshd(root / "sshd") as sshd, FakeNos(root / "fakenos", {"core-1": "cisco_ios", "agg-1": "huawei_vrp"}) as nos:
        key = f"username: {sshd.username}, private_key: {sshd.client_key}"
        login = f"username: {nos.username}, password: {nos.password}"
        devices = (
            "devices:\n"
            + _device("web-1", "linux", sshd.port, key)
            + _device("lab-1", "linux", sshd.port, key, ", allow_change_playbooks: true")
            + _device("core-1", "cisco_ios", nos.ports["core-1"], login)
            + _device("agg-1", "huawei_vrp", nos.ports["agg-1"], login)
        )
        collector = Collector(root / "collector", collector_yaml(pki))
        agent = Agent(root / "agent", agent_yaml(pki, collector.port, "agent-a", extra=devices + f"playbooks: {{dirs: [{playbooks}]}}\n"))
        db = f"sqlite:///{collector.config_path.parent / 'vigil.db'}"
        engine = database.connect(db)
        try:
            from collector.store import queries

            wait_until(lambda: len(queries.devices(engine, "agent-a")) >= 5, 30, "the agent's inventory at the collector")
            yield Site(collector, agent, db, playbooks, files)
        finally:
            engine.dispose()
            agent.stop()
            collector.stop()


def _hash(playbook_id: str, extra: Path) -> str:
    return load([SHIPPED, extra]).get(playbook_id).content_hash  # type: ignore[union-attr]


def _queue(site: Site, playbook_id: str, device: str, params: dict[str, str] | None = None, *,
           content_hash: str | None = None, approval: dict[str, object] | None = None) -> int:
    """A run written straight into the store: what the collector's checks would have stopped."""
    library = load([SHIPPED, site.playbooks])
    playbook = library.get(playbook_id)
    request = records.Request(
        agent_id="agent-a", device_id=device, customer="客户A", site="上海机房", playbook_id=playbook_id,
        playbook_hash=content_hash or (playbook.content_hash if playbook else "0" * 64),
        mode=playbook.mode if playbook else "diagnostic", params=params or {}, requested_by="mallory", approval=approval,
    )
    engine = site.engine()
    try:
        return records.create(engine, request)
    finally:
        engine.dispose()


def _ended(site: Site, run_id: int, timeout_s: float = 60):  # type: ignore[no-untyped-def]
    engine = site.engine()
    try:
        return wait_until(lambda: (r := records.get(engine, run_id)) and r.status in records.FINAL and r, timeout_s, f"run {run_id} to end")
    finally:
        engine.dispose()


def _stored_output(site: Site, run_id: int) -> str:
    engine = site.engine()
    try:
        return "\n".join(f"{o.text}\n{o.data}" for o in records.output_of(engine, run_id))
    finally:
        engine.dispose()


# ---------------------------------------------------------------- the full path


def test_linux_health_runs_over_ssh_and_streams_every_step(site: Site) -> None:
    result = site.cli("run", "linux_health", "--device", "客户A/上海机房/web-1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "── uptime: LC_ALL=C uptime" in result.stdout and "MemTotal:" in result.stdout
    assert "rows parsed" in result.stdout
    assert "Findings" in result.stdout or "No findings" in result.stdout
    run_id = int(result.stderr.split()[1].rstrip(":"))
    shown = site.cli("runs", "show", str(run_id)).stdout
    assert "status     ok" in shown and "asked by   li.wei" in shown and "MemTotal:" in shown


def test_findings_come_from_the_parsed_rows_and_are_stored_with_the_run(site: Site) -> None:
    result = site.cli("run", "test_filesystems", "--device", "web-1", "--param", f"path={site.files / 'df.txt'}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Filesystem /var is 95% full" in result.stdout and "文件系统 /var 已用 95%" in result.stdout
    run_id = int(result.stderr.split()[1].rstrip(":"))
    engine = site.engine()
    try:
        findings = json.loads(records.get(engine, run_id).findings)
    finally:
        engine.dispose()
    assert [(f["severity"], f["title"]["en"]) for f in findings] == [("major", "Filesystem /var is 95% full")]
    assert "2058642" in json.dumps(findings)  # the evidence travels with the finding
    listing = site.cli("runs", "--device", "web-1").stdout
    assert f"{run_id}" in listing and "test_filesystems" in listing


@pytest.mark.parametrize("playbook, device, expect", [
    ("cisco_ios_health", "core-1", "show version"),
    ("huawei_vrp_health", "agg-1", "display cpu-usage"),
])
def test_network_playbooks_run_through_netmiko_on_fakenos(site: Site, playbook: str, device: str, expect: str) -> None:
    result = site.cli("run", playbook, "--device", f"agent-a/{device}", timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"── " in result.stdout and expect in result.stdout
    assert "rows parsed" in result.stdout


def test_the_engineer_sees_the_first_line_before_the_command_ends(site: Site) -> None:
    """`echo started` shows at the CLI while `sleep 3` still runs: output is relayed live, not at the end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "collector.cli.main", "--db", site.db, "run", "test_slow", "--device", "web-1",
         "--param", "seconds=3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "VIGIL_PLAYBOOKS": str(site.playbooks)},
    )
    try:
        assert process.stdout is not None
        while (line := process.stdout.readline()) and line.strip() != "started":
            pass
        seen = time.monotonic()
        rest = process.stdout.read()
        assert process.wait(30) == 0
        still_running_s = time.monotonic() - seen
    finally:
        process.kill()
    assert "slept" in rest
    assert still_running_s > 1.5, f"the first line arrived only {still_running_s:.1f}s before the end: not live"


# ---------------------------------------------------------------- refusals, on the agent


def test_parameter_injection_is_refused_on_the_agent_and_recorded(site: Site) -> None:
    for evil in ("/etc/hosts; rm -rf /", "/etc/hosts\nid", "/etc/`id`", "/etc/$(id)"):
        # The CLI refuses it first …
        refused = site.cli("run", "test_show_config", "--device", "web-1", "--param", f"path={evil}")
        assert refused.returncode == 2 and "parameter invalid" in refused.stderr, refused.stderr
        # … and so does the agent, when a run gets past the collector.
        run = _ended(site, _queue(site, "test_show_config", "web-1", {"path": evil}))
        assert run.status == "refused" and "parameter invalid" in run.error and "path" in run.error, run.error
        assert _stored_output(site, run.run_id) == ""


def test_a_playbook_hash_the_agent_does_not_have_is_refused(site: Site) -> None:
    run = _ended(site, _queue(site, "linux_health", "web-1", content_hash="f" * 64))
    assert run.status == "refused" and "not installed on this agent" in run.error
    unknown = _ended(site, _queue(site, "no_such_playbook", "web-1"))
    assert unknown.status == "refused" and "not installed" in unknown.error
    cli = site.cli("run", "no_such_playbook", "--device", "web-1")
    assert cli.returncode == 2 and "no playbook 'no_such_playbook'" in cli.stderr


def test_change_playbooks_need_the_agents_permission_and_a_recorded_approval(site: Site) -> None:
    approval = {"approval_id": "a1", "approved_by": "王经理 (客户A)", "approved_at_ms": int(time.time() * 1000)}
    # lab-1 allows changes, but nobody approved this run.
    unapproved = _ended(site, _queue(site, "test_change", "lab-1"))
    assert unapproved.status == "refused" and "needs an approval" in unapproved.error
    # web-1 does not allow changes at all, approval or not.
    not_allowed = _ended(site, _queue(site, "test_change", "web-1", approval={**approval, "run_id": "ignored"}))
    assert not_allowed.status == "refused" and "not allowed on device web-1" in not_allowed.error
    # The CLI asks for the approval, records it, and the agent runs the change.
    cli = site.cli("run", "test_change", "--device", "lab-1")
    assert cli.returncode == 2 and "--approved-by" in cli.stderr
    approved = site.cli("run", "test_change", "--device", "lab-1", "--approved-by", "王经理 (客户A)", "--approval-note", "CR-2211")
    assert approved.returncode == 0 and "changed" in approved.stdout, approved.stdout + approved.stderr
    run_id = int(approved.stderr.split()[1].rstrip(":"))
    shown = site.cli("runs", "show", str(run_id)).stdout
    assert "approved   by 王经理 (客户A)" in shown and "CR-2211" in shown and "recorded by li.wei" in shown


def test_unknown_device_and_offline_agent_are_one_clear_line(site: Site) -> None:
    unknown = site.cli("run", "linux_health", "--device", "nowhere-9")
    assert unknown.returncode == 2 and unknown.stderr.strip() == "vigil: device unknown: 'nowhere-9' (see `vigil devices`)"
    bad_param = site.cli("run", "linux_disk_full", "--device", "web-1", "--param", "mount=relative/path")
    assert bad_param.returncode == 2 and bad_param.stderr.startswith("vigil: parameter invalid:") and "mount" in bad_param.stderr


# ---------------------------------------------------------------- secrets


def test_device_answers_with_secrets_are_redacted_before_they_leave_the_agent(site: Site) -> None:
    result = site.cli("run", "test_show_config", "--device", "web-1", "--param", f"path={site.files / 'router.cfg'}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "snmp-server community" in result.stdout and "hostname edge-1" in result.stdout
    run_id = int(result.stderr.split()[1].rstrip(":"))
    stored = _stored_output(site, run_id)
    everything = [result.stdout, result.stderr, stored, site.agent.output(), site.collector.output(),
                  site.cli("runs", "show", str(run_id)).stdout]
    for secret in (COMMUNITY, PASSWORD):
        assert not any(secret in text for text in everything), f"{secret} escaped"
    assert "snmp-server community ******" in stored


# ---------------------------------------------------------------- timeout and cancel


def test_a_hanging_command_is_cut_at_its_timeout_and_the_next_run_works(site: Site) -> None:
    slow = site.cli("run", "test_slow", "--device", "web-1", "--param", "seconds=60")
    assert slow.returncode == 1 and "timeout: step first timed out after 5 s" in slow.stderr, slow.stderr
    assert "\nstarted\n" in slow.stdout and "\nslept" not in slow.stdout and "(timed out, 5.0 s)" in slow.stdout, slow.stdout
    after = site.cli("run", "test_show_config", "--device", "web-1", "--param", f"path={site.files / 'df.txt'}")
    assert after.returncode == 0 and "/dev/sda1" in after.stdout


def test_an_engineer_cancels_a_run_and_the_device_is_free_again(site: Site) -> None:
    run_id = _queue(site, "test_slow", "web-1", {"seconds": "4"})  # within its 5 s timeout
    engine = site.engine()
    try:
        wait_until(lambda: records.get(engine, run_id).status == "running", 30, "the run to start")
    finally:
        engine.dispose()
    assert site.cli("runs", "cancel", str(run_id)).returncode == 0
    run = _ended(site, run_id)
    assert run.status == "cancelled" and "li.wei" in run.error, (run.status, run.error)
    again = site.cli("run", "test_show_config", "--device", "web-1", "--param", f"path={site.files / 'df.txt'}")
    assert again.returncode == 0, again.stdout + again.stderr
