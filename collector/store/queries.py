"""Read side of the store for the engineer's CLI (and later the API and reports)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Engine, Row, func, select

from collector.store import schema
from collector.store.blocks import Block


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    series_id: int
    metric: str
    labels: tuple[tuple[str, str], ...]

    @property
    def label_text(self) -> str:
        return ",".join(f"{k}={v}" for k, v in self.labels)


def agents(engine: Engine) -> list[Row]:
    a, d = schema.agents, schema.devices
    device_count = select(func.count()).where(d.c.agent_id == a.c.agent_id).scalar_subquery()
    with engine.connect() as connection:
        return connection.execute(select(a, device_count.label("devices")).order_by(a.c.customer, a.c.site, a.c.agent_id)).all()


def devices(engine: Engine, agent_id: str | None = None) -> list[Row]:
    d, s, a = schema.devices, schema.series, schema.agents
    series_count = (
        select(func.count()).where(s.c.agent_id == d.c.agent_id, s.c.device_id == d.c.device_id).scalar_subquery()
    )
    query = (
        select(d, a.c.customer, a.c.site, series_count.label("series"))
        .join(a, a.c.agent_id == d.c.agent_id)
        .order_by(a.c.customer, d.c.agent_id, d.c.device_id)
    )
    if agent_id:
        query = query.where(d.c.agent_id == agent_id)
    with engine.connect() as connection:
        return connection.execute(query).all()


def find_device(engine: Engine, name: str) -> list[tuple[str, str]]:
    """(agent, device) pairs matching `device` or `agent/device`."""
    d = schema.devices
    agent_id, _, device_id = name.rpartition("/")
    query = select(d.c.agent_id, d.c.device_id).where(d.c.device_id == device_id)
    if agent_id:
        query = query.where(d.c.agent_id == agent_id)
    with engine.connect() as connection:
        return [(row.agent_id, row.device_id) for row in connection.execute(query)]


def series_of(engine: Engine, agent_id: str, device_id: str, metric: str | None = None) -> list[SeriesInfo]:
    s = schema.series
    query = select(s.c.series_id, s.c.metric, s.c.labels).where(s.c.agent_id == agent_id, s.c.device_id == device_id)
    if metric:
        query = query.where(s.c.metric == metric)
    with engine.connect() as connection:
        rows = connection.execute(query.order_by(s.c.metric, s.c.labels)).all()
    return [SeriesInfo(r.series_id, r.metric, tuple(tuple(p) for p in json.loads(r.labels))) for r in rows]


def raw_points(
    engine: Engine, agent_id: str, series_ids: set[int], since_ms: int, until_ms: int
) -> dict[int, tuple[list[int], list[float]]]:
    """Every stored raw point of these series within [since, until], in time order."""
    b = schema.point_blocks
    found: dict[int, tuple[list[int], list[float]]] = {sid: ([], []) for sid in series_ids}
    query = (
        select(b.c.series_ids, b.c.counts, b.c.timestamps, b.c.point_values)
        .where(b.c.agent_id == agent_id, b.c.max_ts_ms >= since_ms, b.c.min_ts_ms <= until_ms)
        .order_by(b.c.block_id)
    )
    with engine.connect() as connection:
        for row in connection.execute(query):
            block = Block.unpack(row)
            for series_id, start, end in block.segments():
                if series_id not in series_ids:
                    continue
                ts_out, values_out = found[series_id]
                for ts, value in zip(block.timestamps[start:end], block.values[start:end]):
                    if since_ms <= ts <= until_ms:
                        ts_out.append(ts)
                        values_out.append(value)
    for ts_out, values_out in found.values():
        if any(a > b for a, b in zip(ts_out, ts_out[1:])):  # late data arrived after newer blocks
            pairs = sorted(zip(ts_out, values_out))
            ts_out[:], values_out[:] = [p[0] for p in pairs], [p[1] for p in pairs]
    return found


def hourly(engine: Engine, series_ids: set[int], since_ms: int, until_ms: int) -> dict[int, list[Row]]:
    """Hourly rollups of these series within the window, oldest first."""
    r = schema.rollups_hourly
    found: dict[int, list[Row]] = {sid: [] for sid in series_ids}
    query = (
        select(r)
        .where(r.c.series_id.in_(series_ids), r.c.hour_ms >= since_ms - since_ms % 3_600_000, r.c.hour_ms <= until_ms)
        .order_by(r.c.series_id, r.c.hour_ms)
    )
    with engine.connect() as connection:
        for row in connection.execute(query):
            found[row.series_id].append(row)
    return found


def totals(engine: Engine) -> tuple[int, int]:
    """(points, batches) stored in raw blocks."""
    b = schema.point_blocks
    with engine.connect() as connection:
        points, batches = connection.execute(select(func.coalesce(func.sum(b.c.n_points), 0), func.count())).one()
    return int(points), int(batches)


SEVERITY_RANK = {"info": 0, "warning": 1, "minor": 2, "major": 3, "critical": 4}


def events(
    engine: Engine, since_ms: int, *, agent_id: str = "", device_id: str = "", min_severity: str = "info", limit: int = 50
) -> list[Row]:
    """The newest events since `since_ms` (newest first), with the customer and site of their agent."""
    e, a = schema.events, schema.agents
    severities = [name for name, rank in SEVERITY_RANK.items() if rank >= SEVERITY_RANK[min_severity]]
    query = (
        select(e, a.c.customer, a.c.site)
        .join(a, a.c.agent_id == e.c.agent_id, isouter=True)
        .where(e.c.at_ms >= since_ms, e.c.severity.in_(severities))
        .order_by(e.c.at_ms.desc(), e.c.event_id.desc())
        .limit(limit)
    )
    if agent_id:
        query = query.where(e.c.agent_id == agent_id)
    if device_id:
        query = query.where(e.c.device_id == device_id)
    with engine.connect() as connection:
        return connection.execute(query).all()
