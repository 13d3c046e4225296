"""The example configs in deploy/ are valid: an operator copying them starts from something that loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent import config as agent_config
from agent.configfile import ConfigError
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
    assert config.metrics_listen == "127.0.0.1:9464"
    [sink] = config.sinks
    assert (sink.name, sink.kind, sink.org, sink.bucket, sink.precision) == ("influx", "influxdb", "acme-ops", "vigil", "ms")
    assert sink.url == "https://influx.example.net:8086" and sink.batch_points == 5000
    assert "REPLACE-WITH" not in repr(config), "the token must not show when the config is printed"


def test_collector_config_errors_name_the_sink_setting(tmp_path: Path) -> None:
    path = tmp_path / "collector.yaml"
    path.write_text(
        "sinks:\n"
        "  - {name: a, kind: influxdb, url: 'http://influx:8086', org: o, bucket: b}\n"
        "  - name: a\n"
        "    kind: influxdb\n"
        "    url: influx:8086\n"
        "    org: o\n"
        "    bucket: b\n"
        "    precision: minutes\n"
    )
    with pytest.raises(ConfigError) as error:
        collector_config.load(path)
    text = str(error.value)
    assert f"{path}:5: sinks[1].url: 'influx:8086' is not an http:// or https:// URL" in text
    assert f"{path}:8: sinks[1].precision:" in text


def test_systemd_units_run_the_installed_commands() -> None:
    agent_unit = (DEPLOY / "systemd" / "vigil-agent.service").read_text()
    collector_unit = (DEPLOY / "systemd" / "vigil-collector.service").read_text()
    assert "ExecStart=/opt/vigil/venv/bin/vigil-agent run -c /etc/vigil/agent.yaml" in agent_unit
    assert "ExecStart=/opt/vigil/venv/bin/vigil-collector -c /etc/vigil/collector.yaml" in collector_unit
