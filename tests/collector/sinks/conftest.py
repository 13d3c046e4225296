"""Fixtures of the sink tests: a real VictoriaMetrics, a store with real agents and devices, running a sink."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from collector.config import InfluxDBSink as SinkConfig
from collector.sinks import build
from collector.sinks.outbox import status
from collector.sinks.runner import SinkRunner
from collector.store import database, registry
from collector.store.writer import MetricWriter
from protos.vigil.v1 import agent_pb2 as pb
from tests.collector.store.helpers import T0, batch
from tests.peers.victoria import VictoriaMetrics

# Customer and site names a provider really has, with what line protocol must escape.
CUSTOMER = "客户A, 上海=总部"
SITE = "机房 1\\B"


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[VictoriaMetrics]:
    server = VictoriaMetrics(tmp_path / "victoria").start()
    yield server
    server.stop()


def hello(agent_id: str) -> pb.Hello:
    """An agent with its own host (host poller), an SNMP switch and an SNMP UPS."""
    h = pb.Hello(agent_id=agent_id, customer=CUSTOMER, site=SITE, agent_version="0.1.0", protocol="vigil.v1")
    h.devices.add(id="host-1", name="host-1", kind="host", platform="linux", pollers=["host"])
    h.devices.add(id="core-sw-1", name="核心交换机", kind="switch", address="10.0.0.2", pollers=["snmp"])
    h.devices.add(id="ups-1", name="UPS", kind="ups", address="10.0.0.9", pollers=["snmp"])
    return h


def open_store(url: str, agents: tuple[str, ...] = ("a1",)) -> tuple[Engine, MetricWriter]:
    engine = database.open_store(url)
    for agent in agents:
        registry.register(engine, hello(agent), "peer", T0)
    return engine, MetricWriter(engine)


def sink_config(url: str, name: str = "influx", **settings: object) -> SinkConfig:
    values: dict[str, object] = {
        "name": name, "kind": "influxdb", "url": url, "org": "acme", "bucket": "vigil", "token": "s3cr3t-t0ken-value",
        "flush_interval": "50ms", "max_retry_interval": "1s", "timeout": "5s",
    }
    values.update(settings)
    return SinkConfig.model_validate(values)


def runner_for(engine: Engine, config: SinkConfig, **settings: object) -> SinkRunner:
    kwargs: dict[str, object] = {
        "batch_points": config.batch_points, "flush_interval_s": config.flush_interval,
        "max_retry_interval_s": config.max_retry_interval, "status_interval_s": 0.2,
    }
    kwargs.update(settings)
    return SinkRunner(engine, build(config), **kwargs)  # type: ignore[arg-type]


def caught_up(engine: Engine, name: str) -> bool:
    from sqlalchemy import func, select

    from collector.sinks.outbox import events_cursor
    from collector.store import schema

    if status(engine, name).unsent_blocks:
        return False
    with engine.connect() as c:
        newest = c.execute(select(func.max(schema.events.c.event_id))).scalar() or 0
        sent = c.execute(select(schema.cursors.c.position).where(schema.cursors.c.name == events_cursor(name))).scalar() or 0
    return sent >= newest


def drain(engine: Engine, *runners: SinkRunner, timeout_s: float = 30.0) -> None:
    """Run the sinks until each has sent (or dead-lettered) everything stored, then stop them."""

    async def main() -> None:
        tasks = [asyncio.create_task(r.run()) for r in runners]
        deadline = time.monotonic() + timeout_s
        try:
            while not all(await asyncio.gather(*(asyncio.to_thread(caught_up, engine, r.name) for r in runners))):
                for task in tasks:
                    if task.done():
                        task.result()
                if time.monotonic() > deadline:
                    raise AssertionError(f"sinks did not catch up in {timeout_s}s: {[r.last_error for r in runners]}")
                await asyncio.sleep(0.05)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    try:
        asyncio.run(main())
    finally:
        for runner in runners:
            runner.close()


def write(writer: MetricWriter, agent: str, seq: int, series: list, events: tuple = ()) -> None:  # type: ignore[type-arg]
    assert writer.write([batch(agent, seq, series, events=events)], T0 + 86_400_000) == [True]
