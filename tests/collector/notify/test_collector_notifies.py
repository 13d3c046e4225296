"""The real collector process, fed by a real agent: a check fires, the incident is mailed over STARTTLS + AUTH."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_end_to_end import agent_yaml, collector_yaml
from tests.peers.smtp import PASSWORD, USER, SmtpPeer
from tests.peers.vigil import Agent, Collector, wait_until

pytestmark = pytest.mark.integration


def test_an_incident_opened_by_the_collector_is_mailed_to_the_on_call(tmp_path: Path, pki: Path) -> None:
    smtp = SmtpPeer(tmp_path / "smtp").start()
    overrides = tmp_path / "overrides.yaml"
    overrides.write_text("overrides:\n  - match: {customer: 客户A}\n    checks:\n"
                         "      cpu_high: {threshold: 0, recover: -1, for: 0s, recover_for: 0s}\n")
    extra = (
        f"checks: {{overrides: {overrides}}}\n"
        f"smtp: {{host: 127.0.0.1, port: {smtp.port}, username: {USER}, password: '{PASSWORD}',"
        f" sender: 'Vigil <noc@vigil.example>', ca: {smtp.cert}, poll_interval: 200ms}}\n"
        "notify: {poll_interval: 200ms, diagnosis_wait: 0s}\n"
        "customers:\n  客户A: {language: zh, on_call: [noc@provider.cn]}\n"
    )
    collector = Collector(tmp_path / "collector", collector_yaml(pki, extra))
    agent = Agent(tmp_path / "agent", agent_yaml(pki, collector.port, "agent-a"))
    try:
        wait_until(lambda: smtp.received, 30, "the incident mail")
        (mail,) = smtp.received
        assert mail.rcpt_tos == ["noc@provider.cn"]
        assert mail.subject == "【重要】客户A / host-agent-a cpu-total：CPU 使用率过高（事件 1）"
        assert "linux_cpu_top" in mail.part("text/plain")
        assert PASSWORD not in collector.output()
    finally:
        agent.stop()
        collector.stop()
        smtp.stop()
