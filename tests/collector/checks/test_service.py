"""collector/checks/service.py over a real store: batches offered after commit, forecasts fed from hourly rollups."""

from __future__ import annotations

import time

import pytest

from sqlalchemy import select

import checks
from collector.checks.service import CheckService
from collector.store import database, registry, rollup, schema
from collector.store.writer import MetricWriter
from tests.collector.store.helpers import batch, hello
from tests.peers.vigil import wait_until

HOUR = 3_600_000


def _incidents(engine):  # type: ignore[no-untyped-def]
    with engine.connect() as c:
        return c.execute(select(schema.incidents.c.check_id, schema.incidents.c.instance, schema.incidents.c.value)).all()


def test_a_filesystem_growing_2_percent_an_hour_is_forecast_full(store_url: str) -> None:
    engine = database.open_store(store_url)
    registry.register(engine, hello("a1", "nas1"), "peer", 0)
    now = int(time.time() * 1000)
    start = now - now % HOUR - 30 * HOUR      # 30 complete hours, 20 % → 78 %, 2 % an hour
    hours = [start + h * HOUR for h in range(30)]
    writer = MetricWriter(engine)
    writer.load_delivery("a1")
    writer.write([batch("a1", 1, [("nas1", "disk_used_percent", {"path": "/volume1"}, hours, [20.0 + 2 * h for h in range(30)])],
                        now_ms=now)], now)
    while rollup.roll_up(engine):
        pass
    service = CheckService(engine, checks.library())
    service._forecast(now)
    ((check_id, instance, days_left),) = _incidents(engine)
    assert (check_id, instance) == ("filesystem_full_forecast", "path=/volume1")
    # It fires as soon as a day of history is there (hour 24, at 68 %): 32 % at 2 % an hour = 16 h.
    assert days_left == pytest.approx(16 / 24)
    engine.dispose()


def test_offered_batches_are_evaluated_on_the_service_thread(store_url: str) -> None:
    engine = database.open_store(store_url)
    registry.register(engine, hello("a1", "sw1"), "peer", 0)
    service = CheckService(engine, checks.library())
    service.start()
    try:
        now = int(time.time() * 1000)
        minutes = [now - (10 - m) * 60_000 for m in range(10)]
        service.offer(batch("a1", 1, [("sw1", "net_admin_up", {"interface": "Gi1"}, minutes, [1.0] * 10),
                                      ("sw1", "net_oper_up", {"interface": "Gi1"}, minutes, [0.0] * 10)], now_ms=now))
        wait_until(lambda: _incidents(engine), 10, "the interface_down incident")
        assert [(c, i) for c, i, _ in _incidents(engine)] == [("interface_down", "interface=Gi1")]
    finally:
        service.stop()
        engine.dispose()
