"""A sink's outbox: the stored points it has not sent yet, found by a cursor over `point_blocks`.

Like the rollup job (store/rollup.py), a sink follows `point_blocks` by
block id — arrival order — so late data replayed by an agent is sent like
any other block. Its position is a row of `cursors` (`sink:<name>`; events
follow `events` by id under `sink_events:<name>`), saved in the same
transaction as the dead letters of the batch it concludes, and only after
the server took the batch: a crash re-sends a batch, it never skips one.
There is no queue to fill: the store itself is the queue, so a sink that is
down costs nothing but the raw blocks it holds back from retention (see
`rollup.expire`, which keeps them up to `UNSENT_HOLD_MS` longer and records
what it then deletes unsent as dead letters).

Block ids are handed out by the one ingest writer in commit order, so a
reader never sees block n+1 committed before block n.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Engine, Row, delete, func, select

from collector.store import schema
from collector.store.blocks import Block
from collector.store.dialect import insert

POINTS_CURSOR = "sink:"
EVENTS_CURSOR = "sink_events:"
MAX_REASON = 2000
MAX_BLOCKS = 200  # blocks per batch at most (agents send up to 5,000 points a block)


def points_cursor(sink: str) -> str:
    return POINTS_CURSOR + sink


def events_cursor(sink: str) -> str:
    return EVENTS_CURSOR + sink


@dataclass(frozen=True, slots=True)
class SeriesMeta:
    """What a sink needs to name a series: its metric and labels, its agent and device."""

    agent_id: str
    device_id: str
    metric: str
    labels: tuple[tuple[str, str], ...]
    customer: str
    site: str
    address: str       # the device's address ("" for the agent's own host)
    snmp: bool         # the device is polled over SNMP


@dataclass(slots=True)
class OutboxBatch:
    """Whole blocks (and events) after a position; sending them all moves the cursor to `end`."""

    start: tuple[int, int]                   # (block id, event id) it was read after
    end: tuple[int, int]                     # the cursor once everything here is sent
    blocks: list[Row] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)
    series: dict[int, SeriesMeta] = field(default_factory=dict)
    points: int = 0
    full: bool = False                       # stopped at a limit: more is waiting
    oldest_received_ms: int = 0              # when the oldest block here was stored

    @property
    def empty(self) -> bool:
        return self.end == self.start


@dataclass(frozen=True, slots=True)
class DeadLetter:
    status: int
    reason: str
    line: str = ""
    points: int = 1


class Outbox:
    """One sink's reading and bookkeeping side; every method blocks (call them from a thread)."""

    def __init__(self, engine: Engine, sink: str, max_points: int, max_events: int = 1000) -> None:
        self.engine = engine
        self.sink = sink
        self.max_points = max_points
        self.max_events = max_events
        self._series: dict[int, SeriesMeta] = {}

    def position(self) -> tuple[int, int]:
        cursors = schema.cursors
        names = (points_cursor(self.sink), events_cursor(self.sink))
        with self.engine.connect() as connection:
            found = dict(connection.execute(select(cursors.c.name, cursors.c.position).where(cursors.c.name.in_(names))).all())
        return int(found.get(names[0], 0)), int(found.get(names[1], 0))

    def read(self, after: tuple[int, int]) -> OutboxBatch:
        """Whole blocks after `after` up to about `max_points` (at least one), and events after it."""
        blocks_t, events_t, agents, devices = schema.point_blocks, schema.events, schema.agents, schema.devices
        after_block, after_event = after
        batch = OutboxBatch(start=after, end=after)
        with self.engine.connect() as connection:
            sizes = connection.execute(
                select(blocks_t.c.block_id, blocks_t.c.n_points)
                .where(blocks_t.c.block_id > after_block)
                .order_by(blocks_t.c.block_id)
                .limit(MAX_BLOCKS)
            ).all()
            last, points = after_block, 0
            for block_id, n_points in sizes:
                if points and points + n_points > self.max_points:
                    batch.full = True
                    break
                last, points = block_id, points + n_points
            else:
                batch.full = len(sizes) == MAX_BLOCKS
            if last > after_block:
                batch.blocks = connection.execute(
                    select(
                        blocks_t.c.block_id, blocks_t.c.received_ms, blocks_t.c.series_ids, blocks_t.c.counts,
                        blocks_t.c.timestamps, blocks_t.c.point_values,
                    )
                    .where(blocks_t.c.block_id > after_block, blocks_t.c.block_id <= last)
                    .order_by(blocks_t.c.block_id)
                ).all()
                batch.points = points
                batch.oldest_received_ms = batch.blocks[0].received_ms
            batch.events = connection.execute(
                select(events_t, agents.c.customer, agents.c.site, devices.c.address)
                .join(agents, agents.c.agent_id == events_t.c.agent_id, isouter=True)
                .join(devices, (devices.c.agent_id == events_t.c.agent_id) & (devices.c.device_id == events_t.c.device_id), isouter=True)
                .where(events_t.c.event_id > after_event)
                .order_by(events_t.c.event_id)
                .limit(self.max_events)
            ).all()
            if len(batch.events) == self.max_events:
                batch.full = True
            batch.end = (last, batch.events[-1].event_id if batch.events else after_event)
            if batch.blocks:
                batch.series = self._series_of(connection, batch.blocks)
        return batch

    def _series_of(self, connection, blocks: list[Row]) -> dict[int, SeriesMeta]:  # type: ignore[no-untyped-def]
        wanted: set[int] = set()
        for row in blocks:
            wanted.update(Block.unpack(row).series_ids)
        missing = [sid for sid in wanted if sid not in self._series]
        series, agents, devices = schema.series, schema.agents, schema.devices
        decoded: dict[str, tuple[tuple[str, str], ...]] = {}  # many series share their labels (interface names …)
        for start in range(0, len(missing), 500):
            rows = connection.execute(
                select(
                    series.c.series_id, series.c.agent_id, series.c.device_id, series.c.metric, series.c.labels,
                    agents.c.customer, agents.c.site, devices.c.address, devices.c.pollers,
                )
                .join(agents, agents.c.agent_id == series.c.agent_id, isouter=True)
                .join(devices, (devices.c.agent_id == series.c.agent_id) & (devices.c.device_id == series.c.device_id), isouter=True)
                .where(series.c.series_id.in_(missing[start : start + 500]))
            ).all()
            for series_id, agent_id, device_id, metric, labels, customer, site, address, pollers in rows:
                pairs = decoded.get(labels)
                if pairs is None:
                    pairs = decoded[labels] = tuple((k, v) for k, v in json.loads(labels))
                self._series[series_id] = SeriesMeta(
                    agent_id, device_id, metric, pairs, customer or "", site or "", address or "", "snmp" in (pollers or "").split(","),
                )
        return {sid: self._series[sid] for sid in wanted if sid in self._series}

    def forget_series(self) -> None:
        """Drop cached names (an agent's customer or a device's address may have changed)."""
        self._series.clear()

    def commit(self, batch: OutboxBatch, dead_letters: Iterable[DeadLetter], now_ms: int | None = None) -> None:
        """The batch is delivered (or dead-lettered): move the cursors past it, in one transaction."""
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        rows = [
            {"sink": self.sink, "at_ms": now_ms, "status": d.status, "reason": d.reason[:MAX_REASON], "points": d.points, "line": d.line}
            for d in dead_letters
        ]
        with self.engine.begin() as connection:
            # Writes only (no read first), so SQLite takes its write lock by waiting, never by upgrading.
            for name, old, new in (
                (points_cursor(self.sink), batch.start[0], batch.end[0]),
                (events_cursor(self.sink), batch.start[1], batch.end[1]),
            ):
                if new != old:
                    _save_cursor(connection, name, new)
            if rows:
                connection.execute(schema.sink_dead_letters.insert(), rows)


def _save_cursor(connection, name: str, position: int) -> None:  # type: ignore[no-untyped-def]
    cursors = schema.cursors
    statement = insert(connection, cursors).values(name=name, position=position)
    connection.execute(statement.on_conflict_do_update(index_elements=[cursors.c.name], set_={"position": position}))


@dataclass(frozen=True, slots=True)
class SinkStatus:
    """How far behind a sink is, from the store alone."""

    sink: str
    position: int              # last block id sent
    unsent_blocks: int
    unsent_points: int
    oldest_unsent_received_ms: int   # when the oldest unsent block was stored (0: none)
    oldest_unsent_point_ms: int      # the oldest timestamp among unsent points (0: none)
    dead_letter_rows: int
    dead_letter_points: int

    def lag_seconds(self, now_ms: int) -> float:
        """How long the oldest unsent point has waited since it was stored (0 when nothing waits)."""
        return max(0.0, (now_ms - self.oldest_unsent_received_ms) / 1000) if self.oldest_unsent_received_ms else 0.0


def status(engine: Engine, sink: str) -> SinkStatus:
    blocks, cursors, dead = schema.point_blocks, schema.cursors, schema.sink_dead_letters
    with engine.connect() as connection:
        position = connection.execute(select(cursors.c.position).where(cursors.c.name == points_cursor(sink))).scalar() or 0
        n, points, received, oldest = connection.execute(
            select(
                func.count(), func.coalesce(func.sum(blocks.c.n_points), 0), func.min(blocks.c.received_ms),
                func.min(blocks.c.min_ts_ms),
            ).where(blocks.c.block_id > position, blocks.c.n_points > 0)
        ).one()
        rows, lost = connection.execute(
            select(func.count(), func.coalesce(func.sum(dead.c.points), 0)).where(dead.c.sink == sink)
        ).one()
    return SinkStatus(sink, int(position), int(n), int(points), int(received or 0), int(oldest or 0), int(rows), int(lost))


def sinks_with_cursors(engine: Engine) -> list[str]:
    cursors = schema.cursors
    with engine.connect() as connection:
        names = connection.execute(select(cursors.c.name).where(cursors.c.name.like(POINTS_CURSOR + "%"))).scalars()
        return sorted(name.removeprefix(POINTS_CURSOR) for name in names)


def known_sinks(engine: Engine) -> list[str]:
    """Every sink the store has a cursor or dead letters for."""
    with engine.connect() as connection:
        dead = set(connection.execute(select(schema.sink_dead_letters.c.sink).distinct()).scalars())
    return sorted(dead.union(sinks_with_cursors(engine)))


def dead_letters(engine: Engine, sink: str | None = None, limit: int = 10) -> list[Row]:
    """The newest dead letters, newest first."""
    dead = schema.sink_dead_letters
    query = select(dead).order_by(dead.c.dead_letter_id.desc()).limit(limit)
    if sink:
        query = query.where(dead.c.sink == sink)
    with engine.connect() as connection:
        return connection.execute(query).all()


def forget_unconfigured(engine: Engine, configured: Iterable[str]) -> list[str]:
    """Delete the cursors of sinks no longer configured, so they stop holding raw blocks back.

    Their dead letters stay (a record). A sink configured again later starts
    from the oldest stored block: InfluxDB overwrites a point it already has
    (same series and time), so the repeat costs time, not correctness.
    """
    keep = set(configured)
    stale = [name for name in sinks_with_cursors(engine) if name not in keep]
    if stale:
        cursors = schema.cursors
        names = [points_cursor(s) for s in stale] + [events_cursor(s) for s in stale]
        with engine.begin() as connection:
            connection.execute(delete(cursors).where(cursors.c.name.in_(names)))
    return stale
