"""A real collector and real agents as separate processes on 127.0.0.1, with mutual TLS."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from sqlalchemy import select

from collector.store import database, queries, schema
from protos import serieskey
from protos.vigil.v1 import agent_pb2 as pb
from tests.peers.vigil import REPO, Agent, Collector, wait_until

pytestmark = pytest.mark.integration
CONNECT = "/vigil.v1.AgentGateway/Connect"


def collector_yaml(pki: Path, extra: str = "") -> str:
    return (
        "listen: 127.0.0.1:0\n"
        f"tls: {{cert: {pki}/collector.pem, key: {pki}/collector.key, client_ca: {pki}/ca.pem}}\n"
        "database: sqlite:///vigil.db\n"
        "rollup_interval: 1s\n" + extra
    )


def agent_yaml(pki: Path, port: int, agent_id: str, cert: str | None = None, extra: str = "") -> str:
    cert = cert or f"{pki}/agents/{agent_id}"
    return (
        f"agent: {{id: {agent_id}, customer: 客户A, site: 上海机房}}\n"
        "collector:\n"
        f"  address: localhost:{port}\n"
        f"  tls: {{ca: {pki}/ca.pem, cert: {cert}.pem, key: {cert}.key}}\n"
        "  reconnect: {initial: 200ms, max: 1s}\n"
        "state_dir: state\n"
        f"pollers: {{host: {{interval: 300ms, device_id: host-{agent_id}}}}}\n"
        "batching: {max_delay: 300ms}\n" + extra
    )


@pytest.fixture
def collector(tmp_path: Path, pki: Path):  # type: ignore[no-untyped-def]
    process = Collector(tmp_path / "collector", collector_yaml(pki))
    yield process
    process.stop()


def _engine(collector: Collector):  # type: ignore[no-untyped-def]
    return database.connect(f"sqlite:///{collector.config_path.parent / 'vigil.db'}")


def _agent_row(engine, agent_id: str):  # type: ignore[no-untyped-def]
    with engine.connect() as c:
        return c.execute(select(schema.agents).where(schema.agents.c.agent_id == agent_id)).first()


def vigil_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "collector.cli.main", *args], capture_output=True, text=True, cwd=REPO, timeout=60
    )


def test_host_metrics_arrive_are_stored_acked_and_shown(tmp_path: Path, pki: Path, collector: Collector) -> None:
    agent = Agent(tmp_path / "agent", agent_yaml(pki, collector.port, "agent-a"))
    engine = _engine(collector)
    try:
        row = wait_until(lambda: (r := _agent_row(engine, "agent-a")) and r.last_seq >= 3 and r, 30, "3 stored batches")
        assert row.connected and row.customer == "客户A" and row.site == "上海机房"
        series = queries.series_of(engine, "agent-a", "host-agent-a")
        metrics = {s.metric for s in series}
        assert {"mem_used_percent", "system_load1", "disk_used_percent", "vigil_poll_up"} <= metrics
        wait_until(lambda: "cpu_usage_percent" in {s.metric for s in queries.series_of(engine, "agent-a", "host-agent-a")},
                   10, "a CPU rate (needs two polls)")
        db = f"sqlite:///{collector.config_path.parent / 'vigil.db'}"
        agents = vigil_cli("--db", db, "agents")
        assert agents.returncode == 0, agents.stderr
        assert "agent-a" in agents.stdout and "connected" in agents.stdout and "客户A" in agents.stdout
        devices = vigil_cli("--db", db, "devices")
        assert "host-agent-a" in devices.stdout and "host" in devices.stdout
        metrics_out = vigil_cli("--db", db, "metrics", "host-agent-a")
        assert metrics_out.returncode == 0, metrics_out.stderr
        assert "mem_used_percent" in metrics_out.stdout and " %" in metrics_out.stdout
        one = vigil_cli("--db", db, "metrics", "host-agent-a", "--metric", "system_load1", "--since", "5m")
        assert one.returncode == 0 and "SYSTEM_LOAD1" in one.stdout
    finally:
        assert agent.stop() == 0
    log = agent.output()
    # Every batch was acknowledged before the agent exited: nothing left in its outbox.
    assert "0 batches unacknowledged" in log, log
    stored = _agent_row(engine, "agent-a")
    points, _ = queries.totals(engine)
    assert stored.points_stored == points > 0
    wait_until(lambda: not _agent_row(engine, "agent-a").connected, 10, "the collector to mark agent-a disconnected")
    engine.dispose()


def test_certificate_from_another_ca_is_refused(tmp_path: Path, pki: Path, collector: Collector) -> None:
    rogue = Agent(tmp_path / "rogue", agent_yaml(pki, collector.port, "agent-a", cert=f"{pki}/rogue/agents/agent-a"))
    try:
        wait_until(lambda: "unavailable" in rogue.output(), 20, "the rogue agent to be refused")
        assert rogue.alive(), "a refused agent keeps retrying; it must not crash"
    finally:
        rogue.stop()
    engine = _engine(collector)
    assert _agent_row(engine, "agent-a") is None, "an agent with a foreign certificate got registered"
    engine.dispose()


def test_certificate_of_another_agent_is_refused(tmp_path: Path, pki: Path, collector: Collector) -> None:
    # agent-a's hello presented with agent-b's (valid) certificate.
    impostor = Agent(tmp_path / "impostor", agent_yaml(pki, collector.port, "agent-a", cert=f"{pki}/agents/agent-b"))
    try:
        wait_until(lambda: "PERMISSION_DENIED" in impostor.output(), 20, "PERMISSION_DENIED")
        assert "belongs to 'agent-b'" in impostor.output()
    finally:
        impostor.stop()
    engine = _engine(collector)
    assert _agent_row(engine, "agent-a") is None
    engine.dispose()


async def _raw_stream(pki: Path, port: int, agent_id: str, messages: list[bytes]) -> grpc.aio.AioRpcError:
    """Send raw bytes on a Connect stream as `agent_id`; return the status the collector ends it with."""
    credentials = grpc.ssl_channel_credentials(
        (pki / "ca.pem").read_bytes(),
        (pki / "agents" / f"{agent_id}.key").read_bytes(),
        (pki / "agents" / f"{agent_id}.pem").read_bytes(),
    )
    async with grpc.aio.secure_channel(f"localhost:{port}", credentials) as channel:
        call = channel.stream_stream(CONNECT, request_serializer=lambda b: b, response_deserializer=pb.CollectorMessage.FromString)()
        hello = pb.AgentMessage(hello=pb.Hello(agent_id=agent_id, customer="c", site="s", protocol="vigil.v1"))
        hello.hello.devices.add(id="sw1", kind="switch")
        await call.write(hello.SerializeToString())
        welcome = await asyncio.wait_for(call.read(), 10)
        assert welcome.WhichOneof("body") == "welcome"
        for message in messages:
            await call.write(message)
        try:
            async with asyncio.timeout(10):
                while (reply := await call.read()) is not grpc.aio.EOF:
                    assert reply.WhichOneof("body") == "ack"
                await call.code()
        except grpc.aio.AioRpcError as exc:
            return exc
    raise AssertionError("the collector accepted the stream")


def _batch(seq: int, timestamps: list[int], values: list[float]) -> bytes:
    message = pb.AgentMessage()
    message.batch.seq = seq
    serieskey.add_series(message.batch, "sw1", "cpu_usage_percent", (), timestamps, values)
    return message.SerializeToString()


def test_malformed_messages_are_rejected_while_another_agent_streams(tmp_path: Path, pki: Path, collector: Collector) -> None:
    good = Agent(tmp_path / "good", agent_yaml(pki, collector.port, "agent-a"))
    engine = _engine(collector)
    try:
        wait_until(lambda: (r := _agent_row(engine, "agent-a")) and r.last_seq >= 1, 30, "agent-a streaming")
        now = int(time.time() * 1000)

        mismatched = asyncio.run(_raw_stream(pki, collector.port, "agent-b", [_batch(1, [now, now + 1], [1.0])]))
        assert mismatched.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "agent agent-b: batch 1: point counts add up to 2, but there are 2 timestamps and 1 values" in mismatched.details()
        assert ("vigil-rejected-seq", "1") in tuple(mismatched.trailing_metadata() or ())

        garbage = asyncio.run(_raw_stream(pki, collector.port, "agent-b", [b"\xff\xff\xff\x0f not protobuf"]))
        assert garbage.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "is not a valid vigil.v1.AgentMessage" in garbage.details()

        # A valid batch after the rejections is stored: the agent is not banned, only the bad data.
        assert _agent_row(engine, "agent-b").last_seq == 0
        before = _agent_row(engine, "agent-a").last_seq
        wait_until(lambda: _agent_row(engine, "agent-a").last_seq >= before + 3, 20, "agent-a to keep streaming")
        assert _agent_row(engine, "agent-a").connected
        assert good.alive()
    finally:
        good.stop()
        engine.dispose()


def test_oversized_message_is_refused_with_resource_exhausted(tmp_path: Path, pki: Path) -> None:
    small = Collector(tmp_path / "small", collector_yaml(pki, "max_message_bytes: 64KiB\n"))
    try:
        now = int(time.time() * 1000)
        n = 10_000  # ~160 KB of packed points
        error = asyncio.run(_raw_stream(pki, small.port, "agent-c", [_batch(1, list(range(now - n, now)), [1.0] * n)]))
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert small.alive()
    finally:
        small.stop()


def test_agent_reconnects_after_collector_restart_without_duplicates(tmp_path: Path, pki: Path) -> None:
    folder = tmp_path / "collector"
    first = Collector(folder, collector_yaml(pki))
    port = first.port
    agent = Agent(tmp_path / "agent", agent_yaml(pki, port, "agent-a"))
    engine = database.connect(f"sqlite:///{folder / 'vigil.db'}")
    second = None
    try:
        wait_until(lambda: (r := _agent_row(engine, "agent-a")) and r.last_seq >= 2, 30, "first batches")
        assert first.stop() == 0
        before = _agent_row(engine, "agent-a").last_seq
        # Same port again, so the agent's configured address still points at it.
        second = Collector(folder, collector_yaml(pki).replace("127.0.0.1:0", f"127.0.0.1:{port}"))
        wait_until(lambda: _agent_row(engine, "agent-a").last_seq >= before + 3, 30, "batches after the restart")
        assert "reconnecting" in agent.output()
    finally:
        agent.stop()
        if second:
            second.stop()
    row = _agent_row(engine, "agent-a")
    points, batches = queries.totals(engine)
    assert row.points_stored == points
    with engine.connect() as c:
        seqs = [s for (s,) in c.execute(select(schema.point_blocks.c.seq).where(schema.point_blocks.c.agent_id == "agent-a"))]
    assert len(seqs) == len(set(seqs)) == batches, "a batch was stored twice"
    engine.dispose()


@pytest.mark.parametrize("program", ["agent", "collector"])
def test_bad_config_gives_a_clear_error_and_no_traceback(tmp_path: Path, program: str) -> None:
    bad = tmp_path / "bad.yaml"
    if program == "agent":
        bad.write_text("agent: {id: a1, customer: c, site: s}\ncollector:\n  address: localhost:4317\n  insecure: true\npollers:\n  host:\n    interval: often\n")
        argv = ["-m", "agent.main", "run", "-c", str(bad)]
        expected = f"{bad}:7: pollers.host.interval: 'often' is not a duration"
    else:
        bad.write_text("listen: 127.0.0.1:4317\ndatabase: sqlite:///x.db\nretention:\n  raw: 30d\n  rollup: 1y\n")
        argv = ["-m", "collector.main", "-c", str(bad)]
        expected = f"{bad}:5: retention.rollup: unknown setting (misspelt?)"
    result = subprocess.run([sys.executable, *argv], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_collector_refuses_plain_text_on_a_public_address(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("listen: 0.0.0.0:4317\ndatabase: sqlite:///x.db\n")
    result = subprocess.run([sys.executable, "-m", "collector.main", "-c", str(config)], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 2
    assert "refusing to listen on 0.0.0.0:4317 without TLS" in result.stderr
    assert not (tmp_path / "x.db").exists()


@pytest.mark.postgres
def test_collector_on_postgresql(tmp_path: Path, pki: Path, postgres_url: str) -> None:
    """The same collector, with its store on PostgreSQL instead of the embedded SQLite."""
    collector = Collector(tmp_path / "collector", collector_yaml(pki).replace("sqlite:///vigil.db", postgres_url))
    agent = Agent(tmp_path / "agent", agent_yaml(pki, collector.port, "agent-a"))
    engine = database.connect(postgres_url)
    try:
        row = wait_until(lambda: (r := _agent_row(engine, "agent-a")) and r.last_seq >= 3 and r, 30, "3 batches in PostgreSQL")
        assert row.connected
        assert "mem_used_percent" in {s.metric for s in queries.series_of(engine, "agent-a", "host-agent-a")}
    finally:
        agent.stop()
        collector.stop()
    points, _ = queries.totals(engine)
    assert _agent_row(engine, "agent-a").points_stored == points > 0
    engine.dispose()
