"""Back-pressure: while the collector's acks say `slow_down`, the agent keeps one batch in flight.

The real agent process streams to a small gRPC server written here instead
of the real collector, because the point is to control exactly when acks
come and what they say: the collector raises `slow_down` only when its store
queue is three quarters full, which no test can hold steady. The server
speaks the real contract (Hello → Welcome, cumulative Acks) and counts what
the agent has sent but not yet had acknowledged.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import grpc
import pytest

from protos.vigil.v1 import agent_pb2 as pb
from protos.vigil.v1 import agent_pb2_grpc
from tests.peers.vigil import Agent

ACK_EVERY_S = 0.25
SLOW_FOR_S = 3.0
NORMAL_FOR_S = 3.0


class AckingGateway(agent_pb2_grpc.AgentGatewayServicer):
    """Acks everything received so far every ACK_EVERY_S, with slow_down on for the first SLOW_FOR_S."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self.acked = 0
        self.outstanding_slow: list[int] = []    # sent-but-unacked, seen at each ack while slow
        self.outstanding_normal: list[int] = []
        self.done = asyncio.Event()

    async def Connect(self, request_iterator, context):  # type: ignore[no-untyped-def]  # noqa: N802 - gRPC's name
        first = await anext(request_iterator)
        assert first.WhichOneof("body") == "hello"
        yield pb.CollectorMessage(welcome=pb.Welcome(last_stored_seq=0, heartbeat_interval_s=1, max_message_bytes=4 << 20))

        async def read() -> None:
            async for message in request_iterator:
                if message.WhichOneof("body") == "batch":
                    self.received.append(message.batch.seq)

        reader = asyncio.create_task(read())
        started = time.monotonic()
        try:
            while (elapsed := time.monotonic() - started) < SLOW_FOR_S + NORMAL_FOR_S:
                await asyncio.sleep(ACK_EVERY_S)
                slow = elapsed < SLOW_FOR_S
                outstanding = len([s for s in self.received if s > self.acked])
                if elapsed > 1.0:  # past the batches sent before the first slow ack arrived
                    (self.outstanding_slow if slow else self.outstanding_normal).append(outstanding)
                if self.received:
                    self.acked = max(self.received)
                yield pb.CollectorMessage(ack=pb.Ack(seq=self.acked, slow_down=slow))
        finally:
            reader.cancel()
            self.done.set()


AGENT_YAML = """\
agent: {{id: slow-agent, customer: c, site: s}}
collector:
  address: 127.0.0.1:{port}
  insecure: true
  max_in_flight_batches: 32
  reconnect: {{initial: 100ms, max: 1s}}
state_dir: state
pollers:
  host: {{enabled: false}}
  synthetic: {{enabled: true, interval: 100ms, series: 20}}
  jitter: 0
batching: {{max_points: 22, max_delay: 5s}}
"""


@pytest.mark.timeout(60)
def test_the_agent_keeps_one_batch_in_flight_while_asked_to_slow_down(tmp_path: Path) -> None:
    async def scenario() -> AckingGateway:
        gateway = AckingGateway()
        server = grpc.aio.server()
        agent_pb2_grpc.add_AgentGatewayServicer_to_server(gateway, server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        agent = await asyncio.to_thread(Agent, tmp_path / "agent", AGENT_YAML.format(port=port))
        try:
            await asyncio.wait_for(gateway.done.wait(), timeout=30)
        finally:
            await asyncio.to_thread(agent.stop)
            await server.stop(grace=None)
        gateway.log = agent.output()  # type: ignore[attr-defined]
        return gateway

    gateway = asyncio.run(scenario())
    # One poll (20 series + up + duration = 22 points) is one batch, ten a second.
    assert gateway.outstanding_slow and max(gateway.outstanding_slow) <= 1, gateway.outstanding_slow
    assert max(gateway.outstanding_normal) > 1, gateway.outstanding_normal  # the window opens again
    assert sorted(gateway.received) == list(range(1, len(gateway.received) + 1))  # nothing skipped
    log = gateway.log  # type: ignore[attr-defined]
    assert "collector asks to slow down" in log and "collector load is normal again" in log
