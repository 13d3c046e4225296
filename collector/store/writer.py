"""Store decoded batches: points, series ids and each agent's high-water mark in one transaction.

Exactly-once effect: a batch whose sequence number is at or below the
agent's stored high-water mark is a resend and is skipped; the mark is
updated in the same transaction as the points, so a crash between the commit
and the ack makes the resend a duplicate, never a hole or a double.

One writer (one thread) owns the write side, so the in-memory copies of the
marks and of the series ids can be trusted between transactions.
"""

from __future__ import annotations

import json
from array import array

from sqlalchemy import Engine, select, update

from collector.decode import DecodedBatch, SeriesKey
from collector.store import schema
from collector.store.blocks import Block
from collector.store.dialect import insert


def labels_json(labels: tuple[tuple[str, str], ...]) -> str:
    return json.dumps([list(pair) for pair in labels], ensure_ascii=False, separators=(",", ":"))


class MetricWriter:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._series: dict[tuple[str, SeriesKey], int] = {}
        self._marks: dict[str, int] = {}

    def high_water_mark(self, agent_id: str) -> int:
        """The agent's last stored batch number, read from the database (at each hello)."""
        with self.engine.connect() as connection:
            mark = connection.execute(
                select(schema.agents.c.last_seq).where(schema.agents.c.agent_id == agent_id)
            ).scalar()
        self._marks[agent_id] = int(mark or 0)
        return self._marks[agent_id]

    def write(self, batches: list[DecodedBatch], now_ms: int) -> list[bool]:
        """Store what is new; return, per batch, whether it was stored (False: a duplicate)."""
        stored: list[bool] = []
        marks = dict(self._marks)
        points: dict[str, int] = {}
        rows = []
        new_series: dict[tuple[str, SeriesKey], int] = {}
        with self.engine.begin() as connection:
            for batch in batches:
                if batch.seq <= marks.get(batch.agent_id, 0):
                    stored.append(False)
                    continue
                ids = self._series_ids(connection, batch, new_series)
                block = Block(array("q", ids), batch.counts, batch.timestamps, batch.values)
                rows.append(
                    {
                        "agent_id": batch.agent_id,
                        "seq": batch.seq,
                        "received_ms": now_ms,
                        "min_ts_ms": batch.min_ts_ms,
                        "max_ts_ms": batch.max_ts_ms,
                        "n_points": batch.points,
                        **block.pack(),
                    }
                )
                marks[batch.agent_id] = batch.seq
                points[batch.agent_id] = points.get(batch.agent_id, 0) + batch.points
                stored.append(True)
            if rows:
                connection.execute(schema.point_blocks.insert(), rows)
            agents = schema.agents
            for agent_id, count in points.items():
                connection.execute(
                    update(agents)
                    .where(agents.c.agent_id == agent_id)
                    .values(
                        last_seq=marks[agent_id],
                        points_stored=agents.c.points_stored + count,
                        last_seen_ms=now_ms,
                    )
                )
        # Only once committed: a rolled-back series id may be handed out again.
        self._marks = marks
        self._series.update(new_series)
        return stored

    def _series_ids(self, connection, batch: DecodedBatch, new: dict[tuple[str, SeriesKey], int]) -> list[int]:  # type: ignore[no-untyped-def]
        cache = self._series
        agent_id = batch.agent_id
        missing = [key for key in batch.keys if (agent_id, key) not in cache and (agent_id, key) not in new]
        if missing:
            self._create_series(connection, agent_id, missing, new)
        return [cache.get((agent_id, key)) or new[(agent_id, key)] for key in batch.keys]

    def _create_series(self, connection, agent_id: str, keys: list[SeriesKey], new: dict[tuple[str, SeriesKey], int]) -> None:  # type: ignore[no-untyped-def]
        series = schema.series
        rows = {
            (device, metric, labels_json(labels)): (device, metric, labels)
            for device, metric, labels in keys
        }
        connection.execute(
            insert(connection, series).on_conflict_do_nothing(),
            [{"agent_id": agent_id, "device_id": d, "metric": m, "labels": lj} for d, m, lj in rows],
        )
        devices = sorted({device for device, _, _ in rows})
        found = connection.execute(
            select(series.c.series_id, series.c.device_id, series.c.metric, series.c.labels).where(
                series.c.agent_id == agent_id, series.c.device_id.in_(devices)
            )
        )
        # Reading every series of these devices also warms the cache for
        # series this batch did not need yet.
        for series_id, device, metric, labels in found:
            key = rows.get((device, metric, labels))
            if key is None:
                key = (device, metric, tuple(tuple(pair) for pair in json.loads(labels)))
            new[(agent_id, key)] = series_id
