"""Agents and devices from the Hello; status from heartbeats and disconnects."""

from __future__ import annotations

import json

from sqlalchemy import select

from collector.store import database, queries, registry, schema
from protos.vigil.v1 import agent_pb2 as pb
from tests.collector.store.helpers import T0, hello


def test_register_is_an_upsert_and_keeps_first_seen(store_url: str) -> None:
    engine = database.open_store(store_url)
    registry.register(engine, hello("a1", "sw1"), "peer-1", T0)
    registry.register(engine, hello("a1", "sw1", "ups1"), "peer-2", T0 + 5000)
    rows = queries.agents(engine)
    assert len(rows) == 1
    agent = rows[0]
    assert (agent.first_seen_ms, agent.last_seen_ms, agent.peer, agent.devices) == (T0, T0 + 5000, "peer-2", 2)
    assert agent.customer == "客户A" and agent.connected
    devices = queries.devices(engine)
    assert [(d.device_id, json.loads(d.labels)) for d in devices] == [("sw1", {"rack": "A1"}), ("ups1", {"rack": "A1"})]
    registry.heartbeat(engine, "a1", pb.Heartbeat(buffered_batches=7, dropped_points=12), T0 + 9000)
    registry.disconnected(engine, "a1", T0 + 10_000)
    with engine.connect() as c:
        row = c.execute(select(schema.agents)).one()
    assert (row.buffered_batches, row.dropped_points, row.connected, row.last_seen_ms) == (7, 12, False, T0 + 10_000)
    registry.register(engine, hello("a1", "sw1"), "peer-3", T0 + 20_000)
    registry.all_disconnected(engine)
    assert not queries.agents(engine)[0].connected
    engine.dispose()
