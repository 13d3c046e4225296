"""Store decoded batches: points, series ids and each agent's watermark in one transaction.

Exactly-once effect: a batch the agent's `Delivery` already has is a resend
and is skipped; the watermark is updated in the same transaction as the
points, so a crash between the commit and the ack makes the resend a
duplicate, never a hole or a double.

One writer (one thread) owns the write side, so the in-memory copies of the
delivery state and of the series ids can be trusted between transactions.
"""

from __future__ import annotations

import json
from array import array

from sqlalchemy import Engine, select, update

from collector.decode import DecodedBatch, DecodedEvent
from collector.store import schema
from collector.store.blocks import Block
from collector.store.delivery import Delivery
from collector.store.dialect import insert
from protos import serieskey


def labels_json(labels: tuple[tuple[str, str], ...]) -> str:
    return json.dumps([list(pair) for pair in labels], ensure_ascii=False, separators=(",", ":"))


def _event_row(batch: DecodedBatch, event: DecodedEvent, now_ms: int) -> dict[str, object]:
    return {
        "agent_id": batch.agent_id, "seq": batch.seq, "device_id": event.device, "at_ms": event.at_ms,
        "received_ms": now_ms, "source": event.source, "name": event.name, "severity": event.severity,
        "message": event.message, "attributes": json.dumps(event.attributes, ensure_ascii=False, sort_keys=True),
    }


class MetricWriter:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._series: dict[str, dict[str, int]] = {}  # agent id → series key → series id
        self._delivery: dict[str, Delivery] = {}

    def delivery(self, agent_id: str) -> Delivery:
        """The committed delivery state of an agent (read it; do not change it)."""
        return self._delivery.get(agent_id) or Delivery()

    def load_delivery(self, agent_id: str, oldest_held: int = 0) -> Delivery:
        """Read the agent's delivery state from the database (at each Hello)."""
        with self.engine.begin() as connection:
            mark = connection.execute(
                select(schema.agents.c.last_seq).where(schema.agents.c.agent_id == agent_id)
            ).scalar()
            blocks = schema.point_blocks
            above = connection.execute(
                select(blocks.c.seq).where(blocks.c.agent_id == agent_id, blocks.c.seq > int(mark or 0))
            ).scalars()
            delivery = Delivery(int(mark or 0), set(above))
            delivery.holds_nothing_below(oldest_held)
            self._save_watermark(connection, agent_id, delivery.watermark)
        self._delivery[agent_id] = delivery
        return delivery.copy()

    def holds_nothing_below(self, agent_id: str, oldest_held: int) -> None:
        """The agent's heartbeat says what it no longer holds: move the watermark past it."""
        delivery = self.delivery(agent_id).copy()
        delivery.holds_nothing_below(oldest_held)
        if delivery.watermark != self.delivery(agent_id).watermark:
            with self.engine.begin() as connection:
                self._save_watermark(connection, agent_id, delivery.watermark)
            self._delivery[agent_id] = delivery

    @staticmethod
    def _save_watermark(connection, agent_id: str, watermark: int) -> None:  # type: ignore[no-untyped-def]
        agents = schema.agents
        connection.execute(update(agents).where(agents.c.agent_id == agent_id).values(last_seq=watermark))

    def write(self, batches: list[DecodedBatch], now_ms: int) -> list[bool]:
        """Store what is new; return, per batch, whether it was stored (False: a duplicate)."""
        stored: list[bool] = []
        deliveries: dict[str, Delivery] = {}
        points: dict[str, int] = {}
        rows = []
        event_rows: list[dict[str, object]] = []
        new_series: dict[str, dict[str, int]] = {}
        with self.engine.begin() as connection:
            for batch in batches:
                delivery = deliveries.get(batch.agent_id)
                if delivery is None:
                    delivery = deliveries[batch.agent_id] = self.delivery(batch.agent_id).copy()
                if delivery.has(batch.seq):
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
                event_rows.extend(_event_row(batch, event, now_ms) for event in batch.events)
                delivery.add(batch.seq)
                points[batch.agent_id] = points.get(batch.agent_id, 0) + batch.points
                stored.append(True)
            if rows:
                connection.execute(schema.point_blocks.insert(), rows)
            if event_rows:
                connection.execute(schema.events.insert(), event_rows)
            agents = schema.agents
            for agent_id, count in points.items():
                connection.execute(
                    update(agents)
                    .where(agents.c.agent_id == agent_id)
                    .values(
                        last_seq=deliveries[agent_id].watermark,
                        points_stored=agents.c.points_stored + count,
                        last_seen_ms=now_ms,
                    )
                )
        # Only once committed: a rolled-back series id may be handed out again.
        self._delivery.update(deliveries)
        for agent_id, ids in new_series.items():
            self._series.setdefault(agent_id, {}).update(ids)
        return stored

    def _series_ids(self, connection, batch: DecodedBatch, new: dict[str, dict[str, int]]) -> list[int]:  # type: ignore[no-untyped-def]
        known = self._series.get(batch.agent_id, {})
        fresh = new.setdefault(batch.agent_id, {})
        try:
            return [known[key] for key in batch.keys]
        except KeyError:
            pass
        missing = [key for key in batch.keys if key not in known and key not in fresh]
        if missing:
            self._create_series(connection, batch.agent_id, missing, fresh)
        return [known.get(key) or fresh[key] for key in batch.keys]

    def _create_series(self, connection, agent_id: str, keys: list[str], new: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
        series = schema.series
        rows = {}
        for key in keys:
            device, metric, labels = serieskey.split(key)
            rows[(device, metric, labels_json(labels))] = key
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
                key = serieskey.join(device, metric, tuple((k, v) for k, v in json.loads(labels)))
            new[key] = series_id
