"""SSH polling from server to store: the real agent polls sshd, the real collector stores it and hears of a swapped key."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from collector.store import database, schema
from tests.e2e.test_end_to_end import collector_yaml
from tests.peers.sshd import Sshd
from tests.peers.vigil import REPO, Agent, Collector, wait_until

pytestmark = pytest.mark.integration


def _agent_yaml(pki: Path, port: int, sshd: Sshd) -> str:
    return (
        "agent: {id: agent-a, customer: 客户A, site: 上海机房}\n"
        "collector:\n"
        f"  address: localhost:{port}\n"
        f"  tls: {{ca: {pki}/ca.pem, cert: {pki}/agents/agent-a.pem, key: {pki}/agents/agent-a.key}}\n"
        "  reconnect: {initial: 200ms, max: 1s}\n"
        "state_dir: state\n"
        "batching: {max_delay: 300ms}\n"
        "pollers:\n"
        "  host: {enabled: false}\n"
        "  ssh: {interval: 1s}\n"
        "devices:\n"
        "  - id: core-1\n"
        "    kind: server\n"
        "    address: 127.0.0.1\n"
        "    platform: linux\n"
        f"    ssh: {{port: {sshd.port}, username: {sshd.username}, private_key: {sshd.encrypted_client_key}, "
        f"passphrase: {sshd.passphrase}, poll: true}}\n"
    )


def test_ssh_figures_reach_the_store_and_a_swapped_host_key_reaches_the_events(tmp_path: Path, pki: Path) -> None:
    with Sshd(tmp_path / "sshd") as sshd:
        collector = Collector(tmp_path / "collector", collector_yaml(pki))
        agent = Agent(tmp_path / "agent", _agent_yaml(pki, collector.port, sshd))
        db = f"sqlite:///{collector.config_path.parent / 'vigil.db'}"
        engine = database.connect(db)
        try:
            def stored(metric: str) -> list[str]:
                s = schema.series
                with engine.connect() as c:
                    return [row.labels for row in c.execute(
                        select(s.c.labels).where(s.c.device_id == "core-1", s.c.metric == metric))]

            wait_until(lambda: stored("cpu_usage_percent"), 30, "core-1's CPU (two polls over SSH) in the store")
            assert stored("mem_total_bytes") and stored("disk_total_bytes")
            with engine.connect() as c:
                pollers = c.execute(select(schema.devices.c.pollers).where(schema.devices.c.device_id == "core-1")).scalar()
            assert "ssh" in pollers

            sshd.swap_host_key()
            wait_until(lambda: any(["kind", "host_key_changed"] in json.loads(labels)
                                   for labels in stored("vigil_poll_error_info")), 30, "the refused polls in the store")

            def listed() -> str:
                result = subprocess.run([sys.executable, "-m", "collector.cli.main", "--db", db, "events"], cwd=REPO,
                                        capture_output=True, text=True, timeout=30, check=False)
                return result.stdout if "host_key_changed" in result.stdout else ""

            out = wait_until(listed, 20, "the host key event in `vigil events`")
            assert "core-1" in out and "MAJOR" in out and "host key changed on core-1" in out
            assert out.count("host_key_changed") == 1                   # once, though every poll is refused
            assert sshd.passphrase not in agent.output()
        finally:
            engine.dispose()
            agent.stop()
            collector.stop()
