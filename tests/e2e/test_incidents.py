"""From a point to an incident through the real collector: stored, evaluated, opened, listed, acknowledged."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from sqlalchemy import select

from collector.store import database, schema
from protos import serieskey
from protos.vigil.v1 import agent_pb2 as pb
from tests.e2e.test_end_to_end import CONNECT, collector_yaml
from tests.peers.vigil import REPO, Collector, wait_until

pytestmark = pytest.mark.integration
MIN = 60_000


async def _send(pki: Path, port: int, agent_id: str, batch: pb.MetricBatch) -> None:
    """A minimal agent: Hello with one server, one batch, wait for its ack."""
    credentials = grpc.ssl_channel_credentials(
        (pki / "ca.pem").read_bytes(), (pki / "agents" / f"{agent_id}.key").read_bytes(),
        (pki / "agents" / f"{agent_id}.pem").read_bytes(),
    )
    async with grpc.aio.secure_channel(f"localhost:{port}", credentials) as channel:
        call = channel.stream_stream(CONNECT, request_serializer=lambda b: b, response_deserializer=pb.CollectorMessage.FromString)()
        hello = pb.AgentMessage(hello=pb.Hello(agent_id=agent_id, customer="客户A", site="上海机房", protocol="vigil.v1"))
        hello.hello.devices.add(id="db-1", kind="server", name="数据库服务器")
        await call.write(hello.SerializeToString())
        assert (await asyncio.wait_for(call.read(), 10)).WhichOneof("body") == "welcome"
        await call.write(pb.AgentMessage(batch=batch).SerializeToString())
        async with asyncio.timeout(10):
            while (reply := await call.read()).WhichOneof("body") != "ack" or reply.ack.seq < batch.seq:
                pass
        await call.done_writing()


def test_a_full_filesystem_replayed_from_the_past_opens_one_incident_with_its_time(tmp_path: Path, pki: Path) -> None:
    collector = Collector(tmp_path / "collector", collector_yaml(pki))
    db = f"sqlite:///{collector.config_path.parent / 'vigil.db'}"
    engine = database.connect(db)
    try:
        start = int(time.time() * 1000) - 40 * MIN   # the agent was cut off: this arrives 40 minutes late
        batch = pb.MetricBatch(seq=1)
        minutes = list(range(8))
        serieskey.add_series(batch, "db-1", "disk_used_percent", (("fstype", "ext4"), ("path", "/data")),
                             [start + m * MIN for m in minutes], [97.0] * len(minutes))
        asyncio.run(_send(pki, collector.port, "agent-a", batch))

        def opened():  # type: ignore[no-untyped-def]
            with engine.connect() as c:
                return c.execute(select(schema.incidents)).all()

        (incident,) = wait_until(opened, 10, "the filesystem incident")
        assert (incident.check_id, incident.device_id, incident.instance) == ("filesystem_usage", "db-1", "path=/data")
        assert (incident.customer, incident.site, incident.status) == ("客户A", "上海机房", "open")
        assert incident.happened_ms == start + 5 * MIN   # when the data crossed the limit for 5 minutes …
        assert incident.seen_ms - incident.happened_ms > 30 * MIN  # … not when the replay arrived

        def cli(*argv: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-m", "collector.cli.main", "--db", db, *argv],
                                  cwd=REPO, capture_output=True, text=True, timeout=60, check=False)

        listed = cli("incidents", "--open")
        assert listed.returncode == 0 and "db-1" in listed.stdout and "/data" in listed.stdout
        acked = cli("ack", str(incident.incident_id), "--by", "值班工程师")
        assert acked.returncode == 0, acked.stderr
        shown = cli("incident", "show", str(incident.incident_id))
        assert "值班工程师" in shown.stdout and "97" in shown.stdout
    finally:
        engine.dispose()
        collector.stop()
