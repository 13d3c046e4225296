"""Agents and their devices, as announced in each Hello, and their live status."""

from __future__ import annotations

import json

from sqlalchemy import Engine, update

from collector.store import schema
from collector.store.dialect import insert
from protos.vigil.v1 import agent_pb2 as pb


def register(engine: Engine, hello: pb.Hello, peer: str, now_ms: int) -> None:
    """Record the agent and its inventory; devices it no longer lists are kept (history)."""
    agents, devices = schema.agents, schema.devices
    agent_row = {
        "agent_id": hello.agent_id,
        "customer": hello.customer,
        "site": hello.site,
        "hostname": hello.hostname,
        "agent_version": hello.agent_version,
        "protocol": hello.protocol,
        "capabilities": ",".join(hello.capabilities),
        "peer": peer,
        "connected": True,
        "last_seen_ms": now_ms,
    }
    with engine.begin() as connection:
        statement = insert(connection, agents).values(first_seen_ms=now_ms, **agent_row)
        connection.execute(
            statement.on_conflict_do_update(index_elements=[agents.c.agent_id], set_=agent_row)
        )
        for device in hello.devices:
            row = {
                "name": device.name,
                "kind": device.kind,
                "address": device.address,
                "platform": device.platform,
                "pollers": ",".join(device.pollers),
                "labels": json.dumps(dict(sorted(device.labels.items())), ensure_ascii=False),
                "last_seen_ms": now_ms,
            }
            statement = insert(connection, devices).values(
                agent_id=hello.agent_id, device_id=device.id, first_seen_ms=now_ms, **row
            )
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=[devices.c.agent_id, devices.c.device_id], set_=row
                )
            )


def heartbeat(engine: Engine, agent_id: str, beat: pb.Heartbeat, now_ms: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(schema.agents)
            .where(schema.agents.c.agent_id == agent_id)
            .values(
                last_seen_ms=now_ms,
                heartbeat_ms=now_ms,
                buffered_batches=beat.buffered_batches,
                buffered_points=beat.buffered_points,
                buffered_bytes=beat.buffered_bytes,
                oldest_unacked_ts_ms=beat.oldest_unacked_ts_ms,
                dropped_points=beat.dropped_points,
                dropped_from_ms=beat.dropped_from_ms,
                dropped_to_ms=beat.dropped_to_ms,
            )
        )


def disconnected(engine: Engine, agent_id: str, now_ms: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(schema.agents).where(schema.agents.c.agent_id == agent_id).values(connected=False, last_seen_ms=now_ms)
        )


def all_disconnected(engine: Engine) -> None:
    """At start-up no stream exists yet, whatever the last run left behind."""
    with engine.begin() as connection:
        connection.execute(update(schema.agents).values(connected=False))
