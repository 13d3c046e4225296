"""The example configs in deploy/ are valid: an operator copying them starts from something that loads."""

from __future__ import annotations

from pathlib import Path

from agent import config as agent_config
from collector import config as collector_config

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def test_agent_example_loads() -> None:
    config = agent_config.load(DEPLOY / "agent.example.yaml")
    assert config.agent.id == "acme-sh-agent-1"
    assert [d.id for d in config.devices] == ["core-sw-1", "ups-1"]
    assert [d.snmp.version for d in config.devices if d.snmp] == ["3", "2c"]
    assert config.pollers.snmp.traps.enabled is False
    assert config.collector.tls is not None and config.collector.tls.cert is not None


def test_collector_example_loads() -> None:
    config = collector_config.load(DEPLOY / "collector.example.yaml")
    assert config.tls is not None and config.tls.client_ca is not None
    assert config.database == "sqlite:////var/lib/vigil/vigil.db"
    assert not config.listens_on_loopback


def test_systemd_units_run_the_installed_commands() -> None:
    agent_unit = (DEPLOY / "systemd" / "vigil-agent.service").read_text()
    collector_unit = (DEPLOY / "systemd" / "vigil-collector.service").read_text()
    assert "ExecStart=/opt/vigil/venv/bin/vigil-agent run -c /etc/vigil/agent.yaml" in agent_unit
    assert "ExecStart=/opt/vigil/venv/bin/vigil-collector -c /etc/vigil/collector.yaml" in collector_unit
