"""Points, series and the high-water mark commit together; resends are dropped."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from collector.store import database, registry, schema
from collector.store.writer import MetricWriter
from protos.vigil.v1 import agent_pb2 as pb
from tests.collector.store.helpers import T0, batch, hello


def _setup(url: str):  # type: ignore[no-untyped-def]
    engine = database.open_store(url)
    registry.register(engine, hello("a1", "sw1", "sw2"), "ipv4:127.0.0.1:1", T0)
    return engine


def test_batches_are_stored_with_series_and_mark(store_url: str) -> None:
    engine = _setup(store_url)
    writer = MetricWriter(engine)
    assert writer.load_delivery("a1").watermark == 0
    first = batch("a1", 1, [("sw1", "cpu_usage_percent", {}, [T0, T0 + 1000], [1.0, 2.0]),
                            ("sw2", "net_recv_bits_per_second", {"interface": "ge0/1"}, [T0], [5e6])])
    second = batch("a1", 2, [("sw1", "cpu_usage_percent", {}, [T0 + 2000], [3.0])])
    assert writer.write([first, second], T0) == [True, True]
    with engine.connect() as c:
        assert c.execute(select(schema.agents.c.last_seq, schema.agents.c.points_stored)).one() == (2, 4)
        assert c.execute(select(func.count()).select_from(schema.series)).scalar() == 2
        assert c.execute(select(func.sum(schema.point_blocks.c.n_points))).scalar() == 4
    engine.dispose()


def test_resent_batches_are_dropped_even_after_a_restart(store_url: str) -> None:
    engine = _setup(store_url)
    writer = MetricWriter(engine)
    writer.load_delivery("a1")
    b1 = batch("a1", 1, [("sw1", "cpu_usage_percent", {}, [T0], [1.0])])
    b2 = batch("a1", 2, [("sw1", "cpu_usage_percent", {}, [T0 + 1000], [2.0])])
    assert writer.write([b1, b2], T0) == [True, True]
    assert writer.write([b2], T0) == [False]
    # A new collector process: the mark comes back from the database.
    restarted = MetricWriter(engine)
    assert restarted.load_delivery("a1").watermark == 2
    b3 = batch("a1", 3, [("sw1", "cpu_usage_percent", {}, [T0 + 2000], [3.0])])
    assert restarted.write([b1, b2, b3], T0) == [False, False, True]
    with engine.connect() as c:
        assert c.execute(select(func.sum(schema.point_blocks.c.n_points))).scalar() == 3
        assert c.execute(select(func.count()).select_from(schema.series)).scalar() == 1
    engine.dispose()


def test_same_series_key_on_two_agents_are_two_series(store_url: str) -> None:
    engine = _setup(store_url)
    registry.register(engine, hello("a2", "sw1"), "peer", T0)
    writer = MetricWriter(engine)
    writer.write([batch("a1", 1, [("sw1", "cpu_usage_percent", {}, [T0], [1.0])]),
                  batch("a2", 1, [("sw1", "cpu_usage_percent", {}, [T0], [9.0])])], T0)
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(schema.series)).scalar() == 2
        marks = dict(c.execute(select(schema.agents.c.agent_id, schema.agents.c.last_seq)).all())
    assert marks == {"a1": 1, "a2": 1}
    engine.dispose()


def test_failed_transaction_stores_nothing_and_keeps_cache_clean(store_url: str) -> None:
    engine = _setup(store_url)
    writer = MetricWriter(engine)
    good = batch("a1", 1, [("sw1", "mem_used_percent", {}, [T0], [50.0])])
    broken = batch("a1", 2, [("sw1", "cpu_usage_percent", {}, [T0], [1.0])])
    broken.counts = None  # type: ignore[assignment]  # packing fails inside the transaction
    try:
        writer.write([good, broken], T0)
    except Exception:  # noqa: BLE001
        pass
    else:
        raise AssertionError("the broken batch should have failed the transaction")
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(schema.point_blocks)).scalar() == 0
        assert c.execute(select(func.count()).select_from(schema.series)).scalar() == 0
        assert c.execute(select(schema.agents.c.last_seq)).scalar() == 0
    # The writer neither believes batch 1 stored nor remembers rolled-back series ids.
    again = batch("a1", 1, [("sw1", "mem_used_percent", {}, [T0], [50.0])])
    assert writer.write([again], T0) == [True]
    with engine.connect() as c:
        series_ids = {r.series_id for r in c.execute(select(schema.series.c.series_id))}
        from collector.store.blocks import Block

        block = Block.unpack(c.execute(select(schema.point_blocks)).one())
    assert set(block.series_ids) <= series_ids
    engine.dispose()


def _trap(name: str, at_ms: int, device: str = "sw1") -> pb.Event:
    return pb.Event(
        device=device, at_ms=at_ms, source="snmp_trap", name=name, severity="major",
        message=f"{name} on ge0/1 (端口1)", attributes={"trap_oid": "1.3.6.1.6.3.1.1.5.3", "if_index": "1"},
    )


def test_events_are_stored_once_with_their_batch_even_without_points(store_url: str) -> None:
    engine = _setup(store_url)
    writer = MetricWriter(engine)
    writer.load_delivery("a1")
    only_events = batch("a1", 1, [], [_trap("link_down", T0 + 500)])
    mixed = batch("a1", 2, [("sw1", "cpu_usage_percent", {}, [T0 + 1000], [2.0])], [_trap("link_up", T0 + 900)])
    assert (only_events.points, only_events.min_ts_ms) == (0, T0 + 500)
    assert writer.write([only_events, mixed], T0 + 1000) == [True, True]
    assert writer.write([only_events], T0 + 2000) == [False]  # a resend stores nothing twice
    assert MetricWriter(engine).load_delivery("a1").watermark == 2
    events = schema.events
    with engine.connect() as c:
        rows = c.execute(select(events.c.seq, events.c.device_id, events.c.name, events.c.message, events.c.attributes)
                         .order_by(events.c.at_ms)).all()
        assert c.execute(select(schema.agents.c.last_seq)).scalar() == 2
    assert [(r.seq, r.device_id, r.name) for r in rows] == [(1, "sw1", "link_down"), (2, "sw1", "link_up")]
    assert rows[0].message == "link_down on ge0/1 (端口1)"
    assert json.loads(rows[0].attributes) == {"trap_oid": "1.3.6.1.6.3.1.1.5.3", "if_index": "1"}
    engine.dispose()
