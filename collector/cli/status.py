"""`vigil status`: the collector's health as the store tells it — agents, intake, sinks, dead letters.

Read from the store alone (like the other commands), so it works while the
collector is down — which is when it is most wanted. A sink's lag is how
long its oldest unsent point has waited since the collector stored it
(`point_blocks.received_ms`), not that point's own timestamp: an agent
replaying yesterday's data does not make a punctual sink look late. The
oldest unsent point's timestamp is shown beside it.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from sqlalchemy import Engine, case, func, select

from collector.cli import store, table
from collector.sinks import outbox
from collector.store import schema

RECENT_BLOCKS = 50_000  # newest blocks scanned for "points in the last minute"


def run(args: argparse.Namespace, url: str) -> int:
    with store.opened(url) as engine:
        print(render(engine, _configured_sinks(args), dead_limit=args.dead_letters))
    return 0


def _configured_sinks(args: argparse.Namespace) -> dict[str, str]:
    """Sink name → where it writes, from the collector config when one is at hand (never the token)."""
    from collector.cli.main import DEFAULT_CONFIG

    path = args.config or (Path(os.environ["VIGIL_COLLECTOR_CONFIG"]) if os.environ.get("VIGIL_COLLECTOR_CONFIG") else None)
    if path is None and not args.db and DEFAULT_CONFIG.exists():
        path = DEFAULT_CONFIG
    if path is None:
        return {}
    from collector import config as collector_config

    config = collector_config.load(path)
    return {sink.name: f"{sink.url} org={sink.org} bucket={sink.bucket}" for sink in config.sinks}


def render(engine: Engine, configured: dict[str, str], now: float | None = None, dead_limit: int = 5) -> str:
    now = time.time() if now is None else now
    now_ms = int(now * 1000)
    parts = [f"Collector store, {table.utc(now_ms)} UTC", _intake(engine, now_ms)]
    names = sorted(set(outbox.known_sinks(engine)) | set(configured))
    if not names:
        parts.append("No metric sinks configured (the embedded store keeps everything; see README \"InfluxDB and Grafana\").")
        return "\n\n".join(parts)
    body = []
    for name in names:
        s = outbox.status(engine, name)
        lag = table.duration(s.lag_seconds(now_ms)) if s.unsent_points else "-"
        oldest = table.utc(s.oldest_unsent_point_ms) if s.unsent_points else "-"
        where = configured.get(name, "(not in the config)" if configured else "-")
        body.append([
            name, where, f"block {s.position:,}" if s.position else "nothing yet", table.count(s.unsent_points), lag, oldest,
            f"{table.count(s.dead_letter_points)} ({s.dead_letter_rows} rows)" if s.dead_letter_rows else "0",
        ])
    parts.append(table.render(
        ["SINK", "WRITES TO", "SENT UP TO", "UNSENT POINTS", "LAG", "OLDEST UNSENT POINT (UTC)", "DEAD LETTERS"], body, right=(3, 4)
    ))
    dead = outbox.dead_letters(engine, limit=dead_limit)
    if dead:
        rows = [
            [table.utc(d.at_ms), d.sink, str(d.status or "-"), table.count(d.points), _short(d.reason, 90), _short(d.line, 60) or "-"]
            for d in dead
        ]
        parts.append("Newest dead letters\n" + table.render(["TIME (UTC)", "SINK", "HTTP", "POINTS", "REASON", "LINE"], rows, right=(3,)))
    return "\n\n".join(parts)


def _intake(engine: Engine, now_ms: int) -> str:
    agents, blocks = schema.agents, schema.point_blocks
    with engine.connect() as connection:
        total, connected = connection.execute(
            select(func.count(), func.coalesce(func.sum(case((agents.c.connected, 1), else_=0)), 0))
        ).one()
        recent = connection.execute(
            select(blocks.c.received_ms, blocks.c.n_points).order_by(blocks.c.block_id.desc()).limit(RECENT_BLOCKS)
        ).all()
    cutoff = now_ms - 60_000
    minute = sum(n for received, n in recent if received >= cutoff)
    capped = len(recent) == RECENT_BLOCKS and recent[-1].received_ms >= cutoff
    newest = table.ago(recent[0].received_ms, now_ms / 1000) if recent else "never"
    body = [[f"{connected} of {total}", ("≥ " if capped else "") + table.count(minute), newest]]
    return table.render(["AGENTS CONNECTED", "POINTS STORED IN THE LAST MINUTE", "LAST BATCH STORED"], body, right=(1,))


def _short(text: str, size: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1] + "…"
