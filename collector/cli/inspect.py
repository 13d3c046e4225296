"""`vigil agents`, `vigil devices`, `vigil metrics`, `vigil events`: the store, as tables."""

from __future__ import annotations

import argparse
import time

from collector.cli import store, table
from collector.cli.errors import UsageError
from collector.store import queries


def run(args: argparse.Namespace, url: str) -> int:
    with store.opened(url) as engine:
        print(COMMANDS[args.command](engine, args))
    return 0


def agents_table(engine, args: argparse.Namespace) -> str:  # type: ignore[no-untyped-def]
    rows = queries.agents(engine)
    if not rows:
        return "No agents have connected yet."
    now = time.time()
    body = [
        [
            r.agent_id, r.customer, r.site,
            "connected" if r.connected else "disconnected",
            table.ago(r.last_seen_ms, now), r.agent_version, str(r.devices),
            table.count(r.points_stored), str(r.last_seq),
            _buffered(r), _replay_lag(r), _dropped(r),
        ]
        for r in rows
    ]
    headers = ["AGENT", "CUSTOMER", "SITE", "STATUS", "LAST SEEN", "VERSION", "DEVICES", "POINTS", "LAST BATCH",
               "BUFFERED", "REPLAY LAG", "DROPPED"]
    return table.render(headers, body, right=(6, 7, 8, 9, 10))


def _buffered(row) -> str:  # type: ignore[no-untyped-def]
    """The agent's unacknowledged backlog, as its last heartbeat told it."""
    if not row.buffered_batches:
        return "0"
    return f"{table.count(row.buffered_points)} pts / {row.buffered_batches} batches"


def _replay_lag(row) -> str:  # type: ignore[no-untyped-def]
    """How old the oldest undelivered point was at the last heartbeat."""
    if not row.oldest_unacked_ts_ms or not row.heartbeat_ms:
        return "-"
    return table.value("lag_seconds", max(0, row.heartbeat_ms - row.oldest_unacked_ts_ms) / 1000)


def _dropped(row) -> str:  # type: ignore[no-untyped-def]
    """Points the agent dropped by policy (buffer full or too old), with the time they covered."""
    if not row.dropped_points:
        return "0"
    span = f" ({table.utc(row.dropped_from_ms)[5:16]}–{table.utc(row.dropped_to_ms)[11:16]} UTC)" if row.dropped_from_ms else ""
    return f"{table.count(row.dropped_points)}{span}"


def devices_table(engine, args: argparse.Namespace) -> str:  # type: ignore[no-untyped-def]
    rows = queries.devices(engine, args.agent)
    if not rows:
        return "No devices." if not args.agent else f"No devices for agent {args.agent}."
    body = [
        [r.agent_id, r.device_id, r.name, r.kind, r.platform, r.address or "-", str(r.series), table.ago(r.last_seen_ms)]
        for r in rows
    ]
    return table.render(["AGENT", "DEVICE", "NAME", "KIND", "PLATFORM", "ADDRESS", "SERIES", "ANNOUNCED"], body, right=(6,))


def metrics_table(engine, args: argparse.Namespace) -> str:  # type: ignore[no-untyped-def]
    matches = queries.find_device(engine, args.device)
    if not matches:
        raise UsageError(f"no device {args.device!r}; `vigil devices` lists them")
    if len(matches) > 1:
        names = ", ".join(f"{a}/{d}" for a, d in matches)
        raise UsageError(f"{args.device!r} is on several agents ({names}); say which as AGENT/DEVICE")
    agent_id, device_id = matches[0]
    series = queries.series_of(engine, agent_id, device_id, args.metric)
    if not series:
        what = f"metric {args.metric!r}" if args.metric else "metrics"
        raise UsageError(f"no {what} stored for {agent_id}/{device_id}")
    until_ms = int(time.time() * 1000)
    since_ms = until_ms - int(args.since * 1000)
    ids = {s.series_id for s in series}
    window = f"last {table.duration(args.since)}"
    title = f"{agent_id}/{device_id} — {window}, {'hourly rollups' if args.hourly else 'raw points'} (times UTC)"
    if args.hourly:
        rollups = queries.hourly(engine, ids, since_ms, until_ms)
        if args.metric:
            return title + "\n" + _hourly_points(series, rollups, args.limit)
        summary = {
            s.series_id: _summary_from_hourly(rollups[s.series_id]) for s in series if rollups[s.series_id]
        }
    else:
        points = queries.raw_points(engine, agent_id, ids, since_ms, until_ms)
        if args.metric:
            return title + "\n" + _raw_points(series, points, args.limit)
        summary = {s.series_id: _summary(*points[s.series_id]) for s in series if points[s.series_id][0]}
    body = []
    for s in series:
        if s.series_id not in summary:
            continue
        last, low, mean, high, n, last_ms = summary[s.series_id]
        f = lambda v, m=s.metric: table.value(m, v)  # noqa: E731
        body.append([s.metric, s.label_text, f(last), f(low), f(mean), f(high), table.count(n), table.ago(last_ms)])
    if not body:
        return f"{title}\nNo points in this window; try a longer --since."
    return title + "\n" + table.render(
        ["METRIC", "LABELS", "LAST", "MIN", "AVG", "MAX", "POINTS", "UPDATED"], body, right=(2, 3, 4, 5, 6)
    )


def _summary(ts: list[int], values: list[float]) -> tuple[float, float, float, float, int, int]:
    return values[-1], min(values), sum(values) / len(values), max(values), len(values), ts[-1]


def _summary_from_hourly(rows: list) -> tuple[float, float, float, float, int, int]:  # type: ignore[type-arg]
    n = sum(r.count for r in rows)
    last = max(rows, key=lambda r: r.last_ts_ms)
    return last.last, min(r.min for r in rows), sum(r.sum for r in rows) / n, max(r.max for r in rows), n, last.last_ts_ms


def _raw_points(series: list[queries.SeriesInfo], points: dict, limit: int) -> str:  # type: ignore[type-arg]
    body = []
    for s in series:
        ts, values = points[s.series_id]
        for t, v in list(zip(ts, values))[-limit:]:
            body.append([table.utc(t), s.label_text, table.value(s.metric, v)])
    if not body:
        return "No points in this window; try a longer --since."
    return table.render(["TIME", "LABELS", series[0].metric.upper()], body, right=(2,))


def _hourly_points(series: list[queries.SeriesInfo], rollups: dict, limit: int) -> str:  # type: ignore[type-arg]
    body = []
    for s in series:
        for r in rollups[s.series_id][-limit:]:
            f = lambda v, m=s.metric: table.value(m, v)  # noqa: E731
            body.append([table.utc(r.hour_ms)[:13] + ":00", s.label_text, f(r.min), f(r.sum / r.count), f(r.max), f(r.last), table.count(r.count)])
    if not body:
        return "No rollups in this window yet (they are built every rollup_interval)."
    return table.render(["HOUR", "LABELS", "MIN", "AVG", "MAX", "LAST", "POINTS"], body, right=(2, 3, 4, 5, 6))


def events_table(engine, args: argparse.Namespace) -> str:  # type: ignore[no-untyped-def]
    since_ms = int((time.time() - args.since) * 1000)
    rows = queries.events(
        engine, since_ms, agent_id=args.agent or "", device_id=args.device or "",
        min_severity=args.severity, limit=args.limit,
    )
    if not rows:
        return f"No events in the last {table.duration(args.since)}."
    body = [
        [table.utc(r.at_ms), r.severity.upper(), r.customer or "-", r.agent_id, r.device_id or "(unknown)", r.name, r.message]
        for r in rows
    ]
    return table.render(["TIME (UTC)", "SEVERITY", "CUSTOMER", "AGENT", "DEVICE", "EVENT", "MESSAGE"], body)


COMMANDS = {"agents": agents_table, "devices": devices_table, "metrics": metrics_table, "events": events_table}
