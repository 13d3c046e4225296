"""SNMP from device to store: the real agent polls snmpd and receives traps, the real collector stores both."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from collector.store import database, schema
from tests.e2e.test_end_to_end import collector_yaml
from tests.peers.snmp import Snmpd, free_udp_port, send_trap
from tests.peers.vigil import REPO, Agent, Collector, wait_until

pytestmark = pytest.mark.integration


def _agent_yaml(pki: Path, port: int, snmpd: Snmpd, trap_port: int) -> str:
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
        "  snmp:\n"
        "    interval: 1s\n"
        f"    traps: {{enabled: true, listen: '127.0.0.1:{trap_port}', communities: [trap-secret]}}\n"
        "devices:\n"
        "  - id: linux1\n"
        "    name: 监控服务器\n"
        "    kind: server\n"
        "    address: 127.0.0.1\n"
        f"    snmp: {{version: '2c', community: {snmpd.community}, port: {snmpd.port}}}\n"
    )


def test_snmp_metrics_and_traps_reach_the_store(tmp_path: Path, pki: Path, snmpd: Snmpd) -> None:
    collector = Collector(tmp_path / "collector", collector_yaml(pki))
    trap_port = free_udp_port()
    agent = Agent(tmp_path / "agent", _agent_yaml(pki, collector.port, snmpd, trap_port))
    db = f"sqlite:///{collector.config_path.parent / 'vigil.db'}"
    engine = database.connect(db)
    try:
        def polled() -> bool:
            s = schema.series
            with engine.connect() as c:
                return c.execute(select(s.c.metric).where(s.c.device_id == "linux1", s.c.metric == "net_recv_bits_per_second")).first() is not None

        wait_until(polled, 30, "rates of linux1's interfaces in the store")
        wait_until(lambda: "receiving SNMP traps" in agent.output(), 10, "the trap receiver")
        sent = send_trap(trap_port, snmpd.access().__class__(version="2c", community="trap-secret"), tmp_path,
                         varbinds=[((1, 3, 6, 1, 2, 1, 2, 2, 1, 2, 2), "s", "eth0")])
        assert sent.returncode == 0, sent.stderr

        def listed() -> str:
            result = subprocess.run(
                [sys.executable, "-m", "collector.cli.main", "--db", db, "events"],
                cwd=REPO, capture_output=True, text=True, timeout=30, check=False,
            )
            return result.stdout if "link_down" in result.stdout else ""

        out = wait_until(listed, 20, "the trap in `vigil events`")
        assert "linux1" in out and "MAJOR" in out and "客户A" in out and "eth0" in out
        assert "trap-secret" not in out + agent.output()
    finally:
        engine.dispose()
        agent.stop()
        collector.stop()
