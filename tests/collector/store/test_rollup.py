"""Hourly rollups from raw blocks: correct aggregates, late data in the right hour, retention."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from collector.store import database, queries, registry, rollup, schema
from collector.store.writer import MetricWriter
from tests.collector.store.helpers import T0, batch, hello

HOUR = 3_600_000


@pytest.fixture
def engine(store_url: str):  # type: ignore[no-untyped-def]
    engine = database.open_store(store_url)
    registry.register(engine, hello("a1", "sw1"), "peer", T0)
    yield engine
    engine.dispose()


def _series_id(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as c:
        return c.execute(select(schema.series.c.series_id)).scalar_one()


def test_rollup_aggregates_each_hour(engine) -> None:  # type: ignore[no-untyped-def]
    writer = MetricWriter(engine)
    ts = [T0 + 10_000, T0 + 20_000, T0 + HOUR - 1, T0 + HOUR, T0 + HOUR + 5]
    writer.write([batch("a1", 1, [("sw1", "cpu_usage_percent", {}, ts, [4.0, 2.0, 9.0, 7.0, 1.0])])], T0)
    assert rollup.roll_up(engine) == 1
    assert rollup.roll_up(engine) == 0  # the cursor moved on
    rows = queries.hourly(engine, {_series_id(engine)}, T0, T0 + 2 * HOUR)
    (first, second) = next(iter(rows.values()))
    assert (first.hour_ms, first.count, first.min, first.max, first.last) == (T0, 3, 2.0, 9.0, 9.0)
    assert first.sum == pytest.approx(15.0)
    assert (second.hour_ms, second.count, second.min, second.max, second.last) == (T0 + HOUR, 2, 1.0, 7.0, 1.0)


def test_late_data_lands_in_its_own_hour_and_keeps_last(engine) -> None:  # type: ignore[no-untyped-def]
    writer = MetricWriter(engine)
    writer.write([batch("a1", 1, [("sw1", "cpu_usage_percent", {}, [T0 + HOUR + 1000], [50.0])])], T0)
    rollup.roll_up(engine)
    # An agent replays an hour-old buffer after a link outage.
    writer.write([batch("a1", 2, [("sw1", "cpu_usage_percent", {}, [T0 + 1000, T0 + 2000], [10.0, 30.0])])], T0)
    writer.write([batch("a1", 3, [("sw1", "cpu_usage_percent", {}, [T0 + HOUR + 500], [99.0])])], T0)
    rollup.roll_up(engine)
    rows = next(iter(queries.hourly(engine, {_series_id(engine)}, T0, T0 + 2 * HOUR).values()))
    assert [(r.hour_ms, r.count) for r in rows] == [(T0, 2), (T0 + HOUR, 2)]
    assert rows[0].sum / rows[0].count == pytest.approx(20.0)
    # 99.0 arrived later but is older than 50.0: "last" stays the newest by time.
    assert (rows[1].last, rows[1].max) == (50.0, 99.0)


def test_raw_points_query_returns_window_in_time_order(engine) -> None:  # type: ignore[no-untyped-def]
    writer = MetricWriter(engine)
    writer.write([batch("a1", 1, [("sw1", "cpu_usage_percent", {}, [T0 + 5000, T0 + 6000], [5.0, 6.0])])], T0)
    writer.write([batch("a1", 2, [("sw1", "cpu_usage_percent", {}, [T0 + 1000, T0 + 9000], [1.0, 9.0])])], T0)
    sid = _series_id(engine)
    ts, values = queries.raw_points(engine, "a1", {sid}, T0 + 1000, T0 + 6000)[sid]
    assert ts == [T0 + 1000, T0 + 5000, T0 + 6000]
    assert values == [1.0, 5.0, 6.0]


def test_expire_keeps_what_is_not_rolled_up(engine) -> None:  # type: ignore[no-untyped-def]
    writer = MetricWriter(engine)
    writer.write([batch("a1", 1, [("sw1", "cpu_usage_percent", {}, [T0], [1.0])])], T0)
    now = T0 + 30 * 86_400_000
    assert rollup.expire(engine, now, raw_retention_ms=86_400_000, rollup_retention_ms=400 * 86_400_000) == (0, 0)
    rollup.roll_up(engine)
    assert rollup.expire(engine, now, raw_retention_ms=86_400_000, rollup_retention_ms=400 * 86_400_000) == (1, 0)
    assert rollup.expire(engine, now, raw_retention_ms=86_400_000, rollup_retention_ms=86_400_000) == (0, 1)
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(schema.point_blocks)).scalar() == 0


def test_a_pass_is_capped_by_points_so_acks_are_not_held_back(engine) -> None:  # type: ignore[no-untyped-def]
    writer = MetricWriter(engine)
    for seq in (1, 2, 3):
        writer.write([batch("a1", seq, [("sw1", "cpu_usage_percent", {}, [T0 + seq * 10, T0 + seq * 10 + 1], [1.0, 2.0])])], T0)
    assert rollup.roll_up(engine, max_points=3) == 1  # 2 + 2 points would pass the cap
    assert rollup.roll_up(engine, max_points=4) == 2
    assert rollup.roll_up(engine, max_points=4) == 0
    (row,) = next(iter(queries.hourly(engine, {_series_id(engine)}, T0, T0 + HOUR).values()))
    assert row.count == 6
