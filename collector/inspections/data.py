"""What an inspection reads from the store: devices, their series, hourly rollups, events, incidents.

Rollups are read in chunks of series and handed out as numpy arrays (one
per column), because a month of a 200-device customer is millions of
hourly rows and every statistic of the inspection (peaks, p95, hours above
a limit) is a vector operation over them. Only the series some check or
chart reads are fetched.
"""

from __future__ import annotations

import json
from collections import defaultdict
from itertools import chain
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import Engine, Row, and_, func, or_, select

from collector.store import schema

HOUR_MS = 3_600_000
CHUNK = 900    # series ids per IN (…): below SQLite's and PostgreSQL's parameter limits with room to spare
FETCH_ROWS = 20_000   # rows turned into Python tuples at a time: bounds the memory a month of many series takes


@dataclass(frozen=True, slots=True)
class DeviceRow:
    agent_id: str
    device_id: str
    customer: str
    site: str
    name: str
    kind: str
    address: str
    platform: str
    pollers: tuple[str, ...]
    labels: dict[str, str]
    first_seen_ms: int
    last_seen_ms: int

    @property
    def key(self) -> tuple[str, str]:
        return self.agent_id, self.device_id


@dataclass(frozen=True, slots=True)
class SeriesRow:
    series_id: int
    metric: str
    labels: dict[str, str]


@dataclass(slots=True)
class Hourly:
    """The hourly rollups of one series, oldest first, as arrays."""

    hour: np.ndarray          # int64 ms, the start of each hour
    count: np.ndarray
    sum: np.ndarray
    min: np.ndarray
    max: np.ndarray
    last: np.ndarray | None       # read only for series that need it (see `hourly`)
    last_ts: np.ndarray | None    # int64 ms
    hours: np.ndarray | None = None   # how many hours each row stands for: None, one each; a `constant` summary, all of them
    _mean: np.ndarray | None = field(default=None, repr=False)

    @property
    def constant(self) -> bool:
        return self.hours is not None

    def weight(self) -> np.ndarray:
        return np.ones(len(self.hour)) if self.hours is None else self.hours

    @property
    def mean(self) -> np.ndarray:
        if self._mean is None:
            self._mean = self.sum / self.count
        return self._mean

    def within(self, start_ms: int, end_ms: int) -> Hourly:
        if self.hours is not None:
            return self if start_ms <= self.hour[0] < end_ms else Hourly(*(np.array([]),) * 5, None, None, np.array([]))
        keep = (self.hour >= start_ms) & (self.hour < end_ms)
        return Hourly(self.hour[keep], self.count[keep], self.sum[keep], self.min[keep], self.max[keep],
                      None if self.last is None else self.last[keep], None if self.last_ts is None else self.last_ts[keep])

    def __len__(self) -> int:
        return len(self.hour)


def devices_in_scope(engine: Engine, customer: str, sites: Sequence[str] = ()) -> list[DeviceRow]:
    """The customer's devices (of its agents), optionally of some sites only; in site, agent, device order."""
    d, a = schema.devices, schema.agents
    query = (select(d, a.c.customer, a.c.site).join(a, a.c.agent_id == d.c.agent_id)
             .where(a.c.customer == customer).order_by(a.c.site, d.c.agent_id, d.c.device_id))
    if sites:
        query = query.where(a.c.site.in_(list(sites)))
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [
        DeviceRow(r.agent_id, r.device_id, r.customer, r.site, r.name or r.device_id, r.kind, r.address, r.platform,
                  tuple(p for p in r.pollers.split(",") if p), _labels_object(r.labels), r.first_seen_ms, r.last_seen_ms)
        for r in rows
    ]


def _labels_object(text: str) -> dict[str, str]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def series_of(engine: Engine, devices: Sequence[DeviceRow], metrics: Iterable[str]) -> dict[tuple[str, str], list[SeriesRow]]:
    """Every series of these devices whose metric is one of `metrics`."""
    s = schema.series
    wanted = {device.key for device in devices}
    found: dict[tuple[str, str], list[SeriesRow]] = defaultdict(list)
    agents = sorted({device.agent_id for device in devices})
    with engine.connect() as connection:
        for agent_id in agents:
            rows = connection.execute(
                select(s.c.series_id, s.c.device_id, s.c.metric, s.c.labels)
                .where(s.c.agent_id == agent_id, s.c.metric.in_(sorted(set(metrics))))
                .order_by(s.c.device_id, s.c.metric, s.c.labels)
            ).all()
            for r in rows:
                if (agent_id, r.device_id) in wanted:
                    found[(agent_id, r.device_id)].append(SeriesRow(r.series_id, r.metric, {k: v for k, v in json.loads(r.labels)}))
    return found


def hourly(engine: Engine, series_ids: Iterable[int], since_ms: int, until_ms: int, with_last: bool = False) -> dict[int, Hourly]:
    """The rollups of these series with hour in [since, until), as arrays per series.

    `last` and `last_ts` are read only `with_last` (uptimes, running totals):
    the other series do not need them, and every column read costs. Rows are
    read through the DB-API cursor, not SQLAlchemy's rows: a month of a large
    customer is millions of rows, and a Row per row costs more than the
    query; the tuples go into one float64 array in C (`np.fromiter`).
    """
    r = schema.rollups_hourly
    ids = sorted(set(series_ids))
    found: dict[int, Hourly] = {}
    columns = [r.c.series_id, r.c.hour_ms, r.c.count, r.c.sum, r.c.min, r.c.max]
    if with_last:
        columns += [r.c.last, r.c.last_ts_ms]
    width = len(columns)
    with engine.connect() as connection:
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start:start + CHUNK]
                statement = (select(*columns).where(r.c.series_id.in_(chunk), r.c.hour_ms >= since_ms, r.c.hour_ms < until_ms)
                             .order_by(r.c.series_id, r.c.hour_ms))
                compiled = statement.compile(dialect=engine.dialect, compile_kwargs={"render_postcompile": True})
                params = compiled.params
                cursor.execute(compiled.string, [params[k] for k in compiled.positiontup] if compiled.positional else params)
                blocks = []
                while rows := cursor.fetchmany(FETCH_ROWS):
                    blocks.append(np.fromiter(chain.from_iterable(rows), dtype=np.float64, count=len(rows) * width).reshape(-1, width))
                if not blocks:
                    continue
                table = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
                del blocks
                sids = table[:, 0].astype(np.int64)
                cuts = np.flatnonzero(np.diff(sids)) + 1
                for part in np.split(table, cuts):
                    found[int(part[0, 0])] = Hourly(
                        part[:, 1].astype(np.int64), part[:, 2], part[:, 3], part[:, 4], part[:, 5],
                        part[:, 6] if with_last else None, part[:, 7].astype(np.int64) if with_last else None,
                    )
        finally:
            cursor.close()
    return found


def constant_series(engine: Engine, series_ids: Iterable[int], since_ms: int, until_ms: int) -> dict[int, Hourly]:
    """The series among these whose every hour in [since, until) held one value (min = max), each as a one-row summary.

    Most of a switch's series are like that over a month (ports that stayed
    up, admin states, error rates of zero): one aggregate row stands for the
    month, and their hourly rows need not be read at all. The row's `hours`
    says how many hours it stands for.
    """
    r = schema.rollups_hourly
    ids = sorted(set(series_ids))
    found: dict[int, Hourly] = {}
    with engine.connect() as connection:
        for start in range(0, len(ids), CHUNK):
            rows = connection.execute(
                select(r.c.series_id, func.min(r.c.hour_ms), func.count(), func.sum(r.c.count), func.sum(r.c.sum),
                       func.min(r.c.min), func.max(r.c.max))
                .where(r.c.series_id.in_(ids[start:start + CHUNK]), r.c.hour_ms >= since_ms, r.c.hour_ms < until_ms)
                .group_by(r.c.series_id).having(func.min(r.c.min) == func.max(r.c.max))
            ).all()
            for sid, first, hours, count, total, low, high in rows:
                found[int(sid)] = Hourly(np.array([first], dtype=np.int64), np.array([float(count)]), np.array([float(total)]),
                                         np.array([float(low)]), np.array([float(high)]), None, None, np.array([float(hours)]))
    return found


def events_of(engine: Engine, devices: Sequence[DeviceRow], since_ms: int, until_ms: int) -> dict[tuple[str, str], list[Row]]:
    e = schema.events
    agents = sorted({device.agent_id for device in devices})
    wanted = {device.key for device in devices}
    found: dict[tuple[str, str], list[Row]] = defaultdict(list)
    if not agents:
        return found
    with engine.connect() as connection:
        rows = connection.execute(
            select(e.c.agent_id, e.c.device_id, e.c.at_ms, e.c.source, e.c.name, e.c.severity, e.c.message, e.c.attributes)
            .where(e.c.agent_id.in_(agents), e.c.at_ms >= since_ms, e.c.at_ms < until_ms)
            .order_by(e.c.at_ms, e.c.event_id)
        ).all()
    for row in rows:
        if (row.agent_id, row.device_id) in wanted:
            found[(row.agent_id, row.device_id)].append(row)
    return found


def incidents_of(engine: Engine, customer: str, since_ms: int, until_ms: int,
                 sites: Sequence[str] = ()) -> tuple[list[Row], dict[int, list[Row]]]:
    """The customer's incidents active at some time in [since, until) or first seen in it, and their timelines."""
    i, t = schema.incidents, schema.incident_timeline
    overlapping = and_(i.c.happened_ms < until_ms, or_(i.c.resolved_ms == 0, i.c.resolved_ms >= since_ms))
    seen = and_(i.c.seen_ms >= since_ms, i.c.seen_ms < until_ms)
    query = select(i).where(i.c.customer == customer, or_(overlapping, seen)).order_by(i.c.seen_ms, i.c.incident_id)
    if sites:
        query = query.where(i.c.site.in_(list(sites)))
    timelines: dict[int, list[Row]] = defaultdict(list)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
        ids = [row.incident_id for row in rows]
        for start in range(0, len(ids), CHUNK):
            for entry in connection.execute(select(t).where(t.c.incident_id.in_(ids[start:start + CHUNK]))
                                            .order_by(t.c.at_ms, t.c.entry_id)):
                timelines[entry.incident_id].append(entry)
    return rows, timelines
