"""Exactly-once with out-of-order delivery: watermark, numbers above it, gaps the agent declares."""

from __future__ import annotations

from sqlalchemy import select

from collector.store import database, registry, schema
from collector.store.delivery import Delivery
from collector.store.writer import MetricWriter
from tests.collector.store.helpers import T0, batch, hello


def test_watermark_advances_over_contiguous_numbers_only() -> None:
    d = Delivery()
    for seq in (3, 5, 1):
        d.add(seq)
    assert (d.watermark, d.above) == (1, {3, 5})
    d.add(2)
    assert (d.watermark, d.above) == (3, {5})
    assert d.has(2) and d.has(5) and not d.has(4) and not d.has(6)


def test_a_declared_gap_closes() -> None:
    d = Delivery(watermark=10, above={14, 15})
    d.holds_nothing_below(13)  # 11 and 12 were dropped by the agent
    assert (d.watermark, d.above) == (12, {14, 15})
    d.holds_nothing_below(14)
    assert (d.watermark, d.above) == (15, set())
    d.holds_nothing_below(3)  # an old claim never moves the watermark back
    assert d.watermark == 15


def _one(agent: str, seq: int) -> object:
    return batch(agent, seq, [("sw1", "cpu_usage_percent", {}, [T0 + seq * 1000], [float(seq)])])


def test_replay_after_live_batches_is_stored_not_dropped(store_url: str) -> None:
    engine = database.open_store(store_url)
    registry.register(engine, hello("a1", "sw1"), "peer", T0)
    writer = MetricWriter(engine)
    writer.load_delivery("a1")
    # Live batches 8 and 9 arrive before the replay of 1..7.
    assert writer.write([_one("a1", 8), _one("a1", 9)], T0) == [True, True]  # type: ignore[list-item]
    assert writer.write([_one("a1", s) for s in range(1, 8)], T0) == [True] * 7  # type: ignore[misc]
    assert writer.write([_one("a1", 5), _one("a1", 9)], T0) == [False, False]  # type: ignore[list-item]
    assert writer.delivery("a1").watermark == 9
    with engine.connect() as c:
        seqs = sorted(s for (s,) in c.execute(select(schema.point_blocks.c.seq)))
        assert c.execute(select(schema.agents.c.last_seq)).scalar() == 9
    assert seqs == list(range(1, 10))
    engine.dispose()


def test_delivery_state_survives_a_collector_restart(store_url: str) -> None:
    engine = database.open_store(store_url)
    registry.register(engine, hello("a1", "sw1"), "peer", T0)
    writer = MetricWriter(engine)
    writer.load_delivery("a1")
    writer.write([_one("a1", 1), _one("a1", 4), _one("a1", 6)], T0)  # type: ignore[list-item]
    restarted = MetricWriter(engine)
    delivery = restarted.load_delivery("a1")
    assert (delivery.watermark, delivery.above) == (1, {4, 6})
    assert restarted.write([_one("a1", 4), _one("a1", 2)], T0) == [False, True]  # type: ignore[list-item]
    # The agent says it holds nothing below 6 (3 and 5 were dropped on its side).
    restarted.holds_nothing_below("a1", 6)
    assert restarted.delivery("a1").watermark == 6
    assert MetricWriter(engine).load_delivery("a1").watermark == 6
    engine.dispose()
