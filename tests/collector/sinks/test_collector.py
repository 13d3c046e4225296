"""The real collector process with two sinks and /metrics, fed by a real agent over mutual TLS."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.test_end_to_end import agent_yaml, collector_yaml
from tests.peers.victoria import VictoriaMetrics, free_port
from tests.peers.vigil import REPO, Agent, Collector, wait_until

pytestmark = pytest.mark.integration
TOKEN = "tok-9f8e7d6c5b4a-secret"


def _metrics(port: int) -> dict[str, float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found


def test_collector_copies_agent_points_to_influxdb_and_exports_its_health(tmp_path: Path, pki: Path) -> None:
    dead_port = free_port()  # nothing listens here: the second sink stays down all along
    with VictoriaMetrics(tmp_path / "victoria") as victoria:
        extra = (
            "metrics_listen: 127.0.0.1:0\n"
            "sinks:\n"
            f"  - {{name: influx, kind: influxdb, url: '{victoria.url}', org: acme, bucket: vigil, token: {TOKEN}, flush_interval: 200ms}}\n"
            f"  - {{name: backup, kind: influxdb, url: 'http://127.0.0.1:{dead_port}', org: acme, bucket: vigil, token: {TOKEN},"
            " max_retry_interval: 1s}\n"
        )
        collector = Collector(tmp_path / "collector", collector_yaml(pki, extra))
        agent = Agent(tmp_path / "agent", agent_yaml(pki, collector.port, "agent-a"))
        try:
            metrics_port = json.loads(collector.ready.read_text())["metrics_port"]
            wait_until(lambda: victoria.export('{__name__="cpu_usage_user"}'), 30, "host CPU points in VictoriaMetrics")
            [mem] = victoria.export('{__name__="mem_total"}')
            assert mem["metric"] == {
                "__name__": "mem_total", "customer": "客户A", "site": "上海机房", "agent": "agent-a",
                "device": "host-agent-a", "host": "host-agent-a",
            }
            assert victoria.export('{__name__="system_load1", agent="agent-a"}')
            assert victoria.export('{__name__="vigil_poll_up", poller="host"}')

            found = wait_until(lambda: (m := _metrics(metrics_port)).get('vigil_sink_points_sent_total{sink="influx"}') and m, 10, "/metrics")
            assert found["vigil_collector_agents_connected"] == 1
            assert found["vigil_collector_points_stored_total"] > 0 and found["vigil_collector_batches_stored_total"] > 0
            assert "vigil_collector_ingest_queue_batches" in found
            assert found['vigil_sink_points_sent_total{sink="backup"}'] == 0
            wait_until(lambda: _metrics(metrics_port).get('vigil_sink_unsent_points{sink="backup"}', 0) > 0, 10, "backup's backlog")
            found = _metrics(metrics_port)
            assert found['vigil_sink_retries_total{sink="backup"}'] > 0 and found['vigil_sink_failing{sink="backup"}'] == 1
            assert found['vigil_sink_lag_seconds{sink="backup"}'] > 0
            assert found['vigil_sink_dead_letter_points{sink="influx"}'] == 0
            # The check engine judges what is stored, beside ingest.
            assert found["vigil_check_points_evaluated_total"] > 0 and found["vigil_check_batches_evaluated_total"] > 0
            assert found["vigil_check_evaluation_seconds_total"] > 0 and found["vigil_check_batches_skipped_total"] == 0

            config = collector.config_path
            status = subprocess.run([sys.executable, "-m", "collector.cli.main", "--config", str(config), "status"],
                                    capture_output=True, text=True, cwd=REPO, timeout=60)
            assert status.returncode == 0, status.stderr
            backup = next(line for line in status.stdout.splitlines() if line.startswith("backup "))
            assert f"http://127.0.0.1:{dead_port} org=acme bucket=vigil" in backup and "nothing yet" in backup
            assert TOKEN not in status.stdout
        finally:
            agent.stop()
            assert collector.stop() == 0
    log = collector.output()
    assert "sink backup: no answer from" in log and "Connection refused" in log
    assert "metrics for Prometheus on http://127.0.0.1:" in log
    assert TOKEN not in log
