"""Run the check engine beside ingest: its own thread, fed after each commit, never in the acks' way.

Ingest calls `offer()` from its event loop once a batch is committed; the
batch goes on a queue and the evaluation happens on this service's thread,
so a slow check or a busy incident table cannot delay an agent's
acknowledgement. The queue is bounded: if evaluation falls that far behind,
batches are dropped from evaluation (never from the store) and counted, and
the log says so — better late alarms than a collector out of memory.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping

from sqlalchemy import Engine, select

from checks.spec import Check
from collector.checks.engine import CheckEngine, DeviceInfo, Finding, Settings, library_defaults
from collector.decode import DecodedBatch
from collector.incidents.keeper import IncidentKeeper, Notice
from collector.store import schema
from protos import serieskey

log = logging.getLogger("vigil.collector.checks")

MAX_QUEUED = 10_000
STOP, NOTHING = object(), object()   # queue markers: end the thread; the wait timed out
TICK_S = 1.0
SWEEP_S = 60.0
FORECAST_FIRST_S, FORECAST_S = 60.0, 3600.0   # forecasts read hourly rollups: once an hour is plenty
FORECAST_LOOKBACK_MS = 7 * 86_400_000


class DeviceDirectory:
    """(agent, device) → customer, site, kind, from the store; re-read when an unknown device shows up."""

    def __init__(self, engine: Engine, min_reload_s: float = 5.0) -> None:
        self._engine = engine
        self._known: dict[tuple[str, str], DeviceInfo] = {}
        self._loaded_at = -float("inf")
        self._min_reload_s = min_reload_s

    def __call__(self, agent_id: str, device_id: str) -> DeviceInfo | None:
        found = self._known.get((agent_id, device_id))
        if found is None and time.monotonic() - self._loaded_at >= self._min_reload_s:
            self.reload()
            found = self._known.get((agent_id, device_id))
        return found

    def reload(self) -> None:
        d, a = schema.devices, schema.agents
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(d.c.agent_id, d.c.device_id, d.c.kind, a.c.customer, a.c.site).join(a, a.c.agent_id == d.c.agent_id)
            ).all()
        self._known = {(r.agent_id, r.device_id): DeviceInfo(r.customer, r.site, r.kind) for r in rows}
        self._loaded_at = time.monotonic()


class CheckService:
    def __init__(self, store: Engine, checks: Mapping[str, Check], settings: Settings = library_defaults,
                 notify: Callable[[Notice], None] | None = None) -> None:
        self.directory = DeviceDirectory(store)
        self.keeper = IncidentKeeper(store, self.directory, notify)
        self.engine = CheckEngine(checks, self.directory, self._found, settings, firing=self.keeper.firing_keys())
        self._queue: queue.Queue[object] = queue.Queue(MAX_QUEUED)
        self._thread = threading.Thread(target=self._run, name="checks", daemon=True)
        self.dropped_batches = 0
        self.findings = 0
        self.batches_evaluated = 0
        self.evaluation_seconds = 0.0

    def start(self) -> None:
        self._thread.start()

    def offer(self, batch: DecodedBatch) -> None:
        """Called for each stored batch (an Ingest listener): queue it, never block."""
        try:
            self._queue.put_nowait(batch)
        except queue.Full:
            self.dropped_batches += 1
            if self.dropped_batches in (1, 10, 100) or self.dropped_batches % 1000 == 0:
                log.warning("check evaluation is behind: %d batches skipped so far", self.dropped_batches)

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._queue.put(STOP)
        self._thread.join(timeout_s)

    def _found(self, finding: Finding) -> None:
        self.findings += 1
        try:
            self.keeper.handle(finding)
        except Exception:  # noqa: BLE001 - one failed write must not stop evaluation
            log.exception("could not record %s of %s on %s", finding.kind, finding.check.id, finding.device_id)

    def _forecast(self, now_ms: int) -> None:
        """Feed the forecast checks the complete hours of the series they read."""
        metrics = self.engine.forecast_metrics
        if not metrics:
            return
        s, r = schema.series, schema.rollups_hourly
        current_hour = now_ms - now_ms % 3_600_000
        query = (
            select(s.c.agent_id, s.c.device_id, s.c.metric, s.c.labels, r.c.hour_ms, r.c.sum, r.c.count)
            .join(r, r.c.series_id == s.c.series_id)
            .where(s.c.metric.in_(sorted(metrics)), r.c.hour_ms >= current_hour - FORECAST_LOOKBACK_MS,
                   r.c.hour_ms < current_hour)
            .order_by(s.c.series_id, r.c.hour_ms)
        )
        try:
            with self.keeper.engine.connect() as connection:
                rows = connection.execute(query).all()
        except Exception:  # noqa: BLE001 - try again next hour
            log.exception("reading hourly rollups for forecasts failed")
            return
        by_series: dict[tuple[str, str], list[tuple[int, float]]] = {}
        for row in rows:
            labels = tuple((k, v) for k, v in json.loads(row.labels))
            key = serieskey.join(row.device_id, row.metric, labels)
            by_series.setdefault((row.agent_id, key), []).append((row.hour_ms, row.sum / row.count))
        for (agent_id, key), hours in by_series.items():
            self.engine.evaluate_hourly(agent_id, key, hours)

    def _run(self) -> None:
        next_tick = next_sweep = time.monotonic()
        next_forecast = next_tick + FORECAST_FIRST_S
        while True:
            try:
                batch = self._queue.get(timeout=max(0.0, next_tick - time.monotonic()))
            except queue.Empty:
                batch = NOTHING
            if batch is STOP:
                return
            if batch is not NOTHING:
                started = time.perf_counter()
                try:
                    self.engine.evaluate(batch)  # type: ignore[arg-type]
                    if batch.events:  # type: ignore[union-attr]
                        self.engine.evaluate_events(batch)  # type: ignore[arg-type]
                except Exception:  # noqa: BLE001 - a bad series must not stop the checks
                    log.exception("evaluating batch %d of %s failed", batch.seq, batch.agent_id)  # type: ignore[union-attr]
                self.batches_evaluated += 1
                self.evaluation_seconds += time.perf_counter() - started
            now = time.monotonic()
            if now >= next_tick:
                self.engine.tick()
                next_tick = now + TICK_S
            if now >= next_sweep:
                self.keeper.sweep(int(time.time() * 1000))
                next_sweep = now + SWEEP_S
            if now >= next_forecast:
                self._forecast(int(time.time() * 1000))
                next_forecast = now + FORECAST_S


__all__ = ["CheckService", "DeviceDirectory", "Notice"]
