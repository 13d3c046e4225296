"""Hourly rollups (count, sum, min, max, last) derived from the raw point blocks.

The job follows `point_blocks` by block id (arrival order), not by time, so
late data — an agent replaying yesterday after a link outage — is folded into
yesterday's hours like any other block. Its cursor is saved in the same
transaction as the rollups it produced: a crash re-does a pass, never skips
or doubles one. Inspection reports read months from here, not from raw.
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import datetime, timezone

from sqlalchemy import Engine, and_, case, delete, func, or_, select

from collector.store import schema
from collector.store.blocks import Block
from collector.store.dialect import insert

HOUR_MS = 3_600_000
CURSOR = "rollup_hourly"
SINK_CURSOR_PREFIX = "sink:"  # collector/sinks/outbox.py: a metric sink's position in point_blocks
UNSENT_HOLD_MS = 7 * 86_400_000

Aggregate = list[float]  # [count, sum, min, max, last, last_ts]


def _fold(aggregates: dict[tuple[int, int], Aggregate], series_id: int, ts: list[int], values: list[float]) -> None:
    """Fold one series' points (ascending by time) into per-hour aggregates."""
    start = 0
    while start < len(ts):
        hour = ts[start] - ts[start] % HOUR_MS
        end = len(ts) if ts[-1] < hour + HOUR_MS else bisect_left(ts, hour + HOUR_MS, start)
        chunk = values[start:end]
        current = aggregates.get((series_id, hour))
        if current is None:
            aggregates[(series_id, hour)] = [end - start, sum(chunk), min(chunk), max(chunk), chunk[-1], ts[end - 1]]
        else:
            current[0] += end - start
            current[1] += sum(chunk)
            current[2] = min(current[2], min(chunk))
            current[3] = max(current[3], max(chunk))
            if ts[end - 1] >= current[5]:
                current[4], current[5] = chunk[-1], ts[end - 1]
        start = end


def roll_up(engine: Engine, max_blocks: int = 500, max_points: int = 100_000) -> int:
    """One pass over new blocks, up to `max_blocks` or about `max_points`; returns how many it folded.

    Passes are kept short because they run on the store thread between
    ingest transactions: a long one would hold live batches' acks back.
    """
    blocks, cursors, rollups = schema.point_blocks, schema.cursors, schema.rollups_hourly
    with engine.begin() as connection:
        position = connection.execute(select(cursors.c.position).where(cursors.c.name == CURSOR)).scalar() or 0
        sizes = connection.execute(
            select(blocks.c.block_id, blocks.c.n_points)
            .where(blocks.c.block_id > position)
            .order_by(blocks.c.block_id)
            .limit(max_blocks)
        ).all()
        if not sizes:
            return 0
        last, points = sizes[0].block_id, 0
        for block_id, n_points in sizes:
            if points and points + n_points > max_points:
                break
            last, points = block_id, points + n_points
        rows = connection.execute(
            select(blocks.c.block_id, blocks.c.series_ids, blocks.c.counts, blocks.c.timestamps, blocks.c.point_values)
            .where(blocks.c.block_id > position, blocks.c.block_id <= last)
            .order_by(blocks.c.block_id)
        ).all()
        aggregates: dict[tuple[int, int], Aggregate] = {}
        for row in rows:
            block = Block.unpack(row)
            ts, values = block.timestamps.tolist(), block.values.tolist()
            for series_id, start, end in block.segments():
                _fold(aggregates, series_id, ts[start:end], values[start:end])
        statement = insert(connection, rollups)
        new = statement.excluded
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=[rollups.c.series_id, rollups.c.hour_ms],
                set_={
                    "count": rollups.c.count + new.count,
                    "sum": rollups.c.sum + new.sum,
                    "min": case((new.min < rollups.c.min, new.min), else_=rollups.c.min),
                    "max": case((new.max > rollups.c.max, new.max), else_=rollups.c.max),
                    "last": case((new.last_ts_ms >= rollups.c.last_ts_ms, new.last), else_=rollups.c.last),
                    "last_ts_ms": case((new.last_ts_ms >= rollups.c.last_ts_ms, new.last_ts_ms), else_=rollups.c.last_ts_ms),
                },
            ),
            [
                {"series_id": sid, "hour_ms": hour, "count": a[0], "sum": a[1], "min": a[2], "max": a[3], "last": a[4], "last_ts_ms": a[5]}
                for (sid, hour), a in aggregates.items()
            ],
        )
        new_position = rows[-1].block_id
        cursor_insert = insert(connection, cursors).values(name=CURSOR, position=new_position)
        connection.execute(
            cursor_insert.on_conflict_do_update(index_elements=[cursors.c.name], set_={"position": new_position})
        )
        return len(rows)


def expire(
    engine: Engine, now_ms: int, raw_retention_ms: int, rollup_retention_ms: int, unsent_hold_ms: int = UNSENT_HOLD_MS
) -> tuple[int, int]:
    """Delete raw blocks past retention (only once rolled up), rollups and events past theirs.

    A raw block a metric sink has not sent yet (its cursor, `sink:<name>`, is
    below it) is kept `unsent_hold_ms` longer than raw retention, so a sink
    that was down catches up. Past that it is deleted all the same — a sink
    down for weeks must not fill the collector's disk — and the points it
    never sent are recorded for that sink in `sink_dead_letters` (status 0,
    one row per sink and pass, with the time range), so the loss is counted
    and shown by `vigil status`.
    """
    blocks, rollups, cursors = schema.point_blocks, schema.rollups_hourly, schema.cursors
    dead = schema.sink_dead_letters
    with engine.begin() as connection:
        position = connection.execute(select(cursors.c.position).where(cursors.c.name == CURSOR)).scalar() or 0
        sinks = connection.execute(
            select(cursors.c.name, cursors.c.position).where(cursors.c.name.like(SINK_CURSOR_PREFIX + "%"))
        ).all()
        past_raw = now_ms - raw_retention_ms
        past_hold = past_raw - unsent_hold_ms
        expired = and_(blocks.c.max_ts_ms < past_raw, blocks.c.block_id <= position)
        for _, sent in sinks:
            expired = and_(expired, or_(blocks.c.block_id <= sent, blocks.c.max_ts_ms < past_hold))
        for name, sent in sinks:
            count, points, first_ms, last_ms = connection.execute(
                select(func.count(), func.coalesce(func.sum(blocks.c.n_points), 0), func.min(blocks.c.min_ts_ms), func.max(blocks.c.max_ts_ms))
                .where(expired, blocks.c.block_id > sent)
            ).one()
            if points:
                connection.execute(dead.insert().values(
                    sink=name.removeprefix(SINK_CURSOR_PREFIX), at_ms=now_ms, status=0, points=int(points), line="",
                    reason=(
                        f"raw retention deleted {int(count)} blocks ({int(points)} points from {_utc(first_ms)} to "
                        f"{_utc(last_ms)} UTC) before this sink sent them"
                    ),
                ))
        raw = connection.execute(delete(blocks).where(expired)).rowcount
        hourly = connection.execute(delete(rollups).where(rollups.c.hour_ms < now_ms - rollup_retention_ms)).rowcount
        # Events and sinks' dead letters live as long as the rollups: the reports that cite them read months back.
        events = schema.events
        connection.execute(delete(events).where(events.c.at_ms < now_ms - rollup_retention_ms))
        connection.execute(delete(dead).where(dead.c.at_ms < now_ms - rollup_retention_ms))
    return raw, hourly


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M")
