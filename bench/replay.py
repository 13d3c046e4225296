"""Replay: the real agent drains a 10-minute backlog into the real collector while 5,000 points/s of live load go on.

    .venv/bin/python bench/replay.py            # full: 10-minute backlog (600 polls × 5,002 points)
    .venv/bin/python bench/replay.py --quick    # the same figures, 2-minute backlog

The backlog is what an agent holds after its collector was unreachable for
10 minutes. Waiting 10 minutes would make the benchmark useless, so it is
written before the agent starts, by the agent's own code: the synthetic
poller's `collect()` stamped at 1 s steps over the 10 minutes before now,
plus the `vigil_poll_up` / `vigil_poll_duration_seconds` samples the
scheduler adds, grouped by `agent.batcher.Batcher`, numbered by
`agent.sequence.SequenceAllocator` and written, fsync'd, by
`agent.buffer.DurableBuffer.put()` into the agent's state directory: the
synthetic poller's batches, byte for byte, as the agent would have written
them itself.

Two runs, one after the other, each against a fresh collector database and
a copy of the same backlog:

1. **live** — `python -m agent.main run -c agent.yaml` with the synthetic
   poller on (5,000 series every 1 s, host poller off, `max_points` 5,000,
   the agent's defaults otherwise: gzip, `max_in_flight_batches` 32,
   `replay_share` 0.75), mutual TLS to `python -m collector.main` (SQLite;
   `rollup_interval` 5 s, as in ingest.py, so rollups run all through the
   drain as under sustained load, not once at a moment that depends on how
   fast the drain went).
2. **baseline** — the same agent and backlog without live load (the
   synthetic device declared under `devices:` so the backlog is accepted).

Measured from the agent's start (its process start; the buffer's start-up
scan and the connection are inside the clock):

* backlog clear time: until the last pre-built batch was committed
  (`point_blocks.received_ms` of the backlog's sequence numbers);
  drain rate = backlog points / clear time;
* agent RSS: VmRSS from /proc every 0.5 s during the drain, maximum (VmHWM at
  the end is printed beside it);
* live data while draining: for every live batch whose poll fell inside the
  drain, commit time − poll time (the batch's oldest timestamp);
* after both processes stopped, from the database: every point of the agent
  unpacked; lost = expected − distinct (series, timestamp) stored of the
  synthetic device, where expected = the backlog's points + the synthetic
  polls × points per poll (polls: what the agent logs at exit, less its
  other pollers' polls found in the store); duplicates = stored − distinct.

Full run about 1 min 45 s, quick about 30 s.
"""

from __future__ import annotations

import argparse
import calendar
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from array import array
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _support as S  # noqa: E402  (puts the repo root on sys.path)

AGENT_ID = "replay-agent"
DEVICE = "synthetic"
RSS_TARGET_MIB = 40.0
DRAIN_TARGET = 100_000
SAMPLE_S = 0.5
POLL_STATUS = (("poller", "synthetic"),)
STOPPED = re.compile(r"stopped: (\d+) polls, (\d+) failed, (\d+) batches unacknowledged")
COLLECTOR_STOPPED = re.compile(r"stopped: (\d+) points in (\d+) batches stored in \d+ transactions, (\d+) duplicates dropped")
CONNECTED = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{3})Z .*connected to collector", re.MULTILINE)


# =================================================================== setup


def write_agent_config(path: Path, port: int, certs: Path, state_dir: Path, args: argparse.Namespace, live: bool) -> Path:
    synthetic = f"{{enabled: {'true' if live else 'false'}, interval: {args.interval:g}s, series: {args.series}, device_id: {DEVICE}}}"
    path.write_text(
        f"agent: {{id: {AGENT_ID}, customer: bench-customer, site: bench-site}}\n"
        "collector:\n"
        f'  address: "127.0.0.1:{port}"\n'
        f"  compression: {args.compression}\n"
        f"  max_in_flight_batches: {args.window}\n"
        "  tls:\n"
        f"    ca: {certs / 'ca.pem'}\n"
        f"    cert: {certs / 'agents' / (AGENT_ID + '.pem')}\n"
        f"    key: {certs / 'agents' / (AGENT_ID + '.key')}\n"
        f"state_dir: {state_dir}\n"
        "pollers:\n"
        "  host: {enabled: false}\n"
        f"  synthetic: {synthetic}\n"
        f"batching: {{max_points: {args.max_points}}}\n"
        # Without the poller the Hello would not declare the device, and the collector would refuse the backlog.
        + ("" if live else f"devices: [{{id: {DEVICE}, kind: other, name: synthetic load}}]\n")
    )
    return path


def build_backlog(config_path: Path, backlog_s: float) -> dict[str, int | float]:
    """Fill the agent's state directory with `backlog_s` of polls, through the agent's own batcher and buffer."""
    from agent import config as agent_config
    from agent import pollers
    from agent.batcher import Batcher
    from agent.buffer import DurableBuffer
    from agent.sequence import SequenceAllocator

    started = time.monotonic()
    config = agent_config.load(config_path)
    (poller,) = pollers.build(config)
    b = config.buffer
    sequence = SequenceAllocator(config.state_dir)
    outbox = DurableBuffer(config.state_dir / "buffer", b.max_bytes, b.max_age, b.segment_bytes)
    if len(outbox):
        raise S.BenchError(f"{config.state_dir} already holds {len(outbox)} batches")
    batcher = Batcher(outbox, sequence, config.batching.max_points, config.batching.max_delay)
    interval_ms = int(round(poller.interval_s * 1000))
    polls = int(round(backlog_s * 1000 / interval_ms))
    first_ms = (int(time.time() * 1000) // 1000) * 1000 - polls * interval_ms
    for k in range(polls):
        poll = poller.collect(first_ms + k * interval_ms)  # type: ignore[attr-defined]
        poll.samples.append(("vigil_poll_up", POLL_STATUS, 1.0))  # as agent.scheduler adds them
        poll.samples.append(("vigil_poll_duration_seconds", POLL_STATUS, 0.001))
        batcher.add(poll)
    batcher.flush()
    built = {
        "polls": polls,
        "batches": len(outbox),
        "points": outbox.points,
        "bytes": outbox.bytes,
        "first_seq": outbox.oldest(),
        "last_seq": outbox.newest(),
        "from_ms": first_ms,
        "to_ms": first_ms + (polls - 1) * interval_ms,
        "dropped": outbox.dropped.points,
        "build_s": time.monotonic() - started,
    }
    outbox.close()
    if built["dropped"]:
        raise S.BenchError(f"the buffer dropped {built['dropped']} points while the backlog was built (max_bytes?)")
    return built


# =================================================================== measuring one drain


def backlog_progress(db: sqlite3.Connection, backlog: dict) -> tuple[int, int, int]:
    """(backlog batches stored, first and last commit time in ms) so far."""
    row = db.execute(
        "SELECT count(*), coalesce(min(received_ms), 0), coalesce(max(received_ms), 0) FROM point_blocks "
        "WHERE agent_id = ? AND seq BETWEEN ? AND ?",
        (AGENT_ID, backlog["first_seq"], backlog["last_seq"]),
    ).fetchone()
    return int(row[0]), int(row[1]), int(row[2])


def split_threads(pid: int, before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]) -> dict[str, float]:
    groups = {"main thread (event loop)": 0.0, "other Python threads": 0.0, "gRPC core threads": 0.0}
    for tid, (name, seconds) in after.items():
        spent = seconds - before.get(tid, (name, 0.0))[1]
        key = 0 if tid == pid else (1 if name.startswith("python") else 2)
        groups[list(groups)[key]] += spent
    return groups


def drain(name: str, workdir: Path, certs: Path, state_dir: Path, backlog: dict, args: argparse.Namespace,
          live: bool, children: list[S.Child]) -> dict:
    """Start a collector and the agent on `state_dir`; measure until the backlog is stored, then stop both and count."""
    database = workdir / f"{name}.db"
    collector_config = S.write_collector_config(workdir / f"{name}-collector.yaml", certs, database, args.rollup_interval)
    collector, port = S.start_collector(workdir, collector_config, name=f"{name}-collector")
    children.append(collector)
    agent_config = write_agent_config(workdir / f"{name}-agent.yaml", port, certs, state_dir, args, live)
    print(f"  {name}: collector pid {collector.pid} on 127.0.0.1:{port} (mutual TLS, SQLite {database.name})", flush=True)

    start_ms = int(time.time() * 1000)
    t0 = time.monotonic()
    collector_cpu0 = S.cpu_seconds(collector.pid)
    collector_threads0 = S.thread_cpu_seconds(collector.pid)
    agent = S.Child(f"{name}-agent", [sys.executable, "-m", "agent.main", "run", "-c", str(agent_config)], workdir / f"{name}-agent.log")
    children.append(agent)
    print(f"  {name}: agent pid {agent.pid} started on {backlog['batches']} buffered batches "
          f"({backlog['points']:,} points), synthetic poller {'on' if live else 'off'}", flush=True)

    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    rss: list[int] = []
    stored = first_commit = last_commit = 0
    cleared_at: float | None = None
    at_clear: dict = {}
    next_print = t0 + 5
    try:
        tick = 0
        while True:
            tick += 1
            time.sleep(max(0.0, t0 + tick * SAMPLE_S - time.monotonic()))
            for child in (agent, collector):
                if not child.alive():
                    raise S.BenchError(f"{child.name} exited with {child.process.returncode}:\n{child.tail()}")
            now = time.monotonic()
            if cleared_at is None:
                rss.append(S.rss_kib(agent.pid))
                stored, first_commit, last_commit = backlog_progress(db, backlog)
                if stored == backlog["batches"]:
                    cleared_at = now
                    at_clear = {
                        "agent_cpu": S.cpu_seconds(agent.pid),
                        "collector_cpu": S.cpu_seconds(collector.pid) - collector_cpu0,
                        "agent_threads": S.thread_cpu_seconds(agent.pid),
                        "collector_threads": S.thread_cpu_seconds(collector.pid),
                        "wall_s": now - t0,
                    }
                    print(f"  {name}: backlog stored after {(last_commit - start_ms) / 1000:.1f} s; "
                          f"{args.after:g} s more of live flow", flush=True)
                elif now - t0 > args.timeout:
                    raise S.BenchError(
                        f"{name}: the backlog was not cleared within {args.timeout:.0f} s: "
                        f"{stored} of {backlog['batches']} batches stored"
                    )
            elif now - cleared_at >= args.after:
                break
            if now >= next_print and cleared_at is None:
                next_print += 5
                print(f"  {name}: {now - t0:4.0f} s: {stored}/{backlog['batches']} backlog batches stored, "
                      f"agent RSS {rss[-1] / 1024:.1f} MiB, agent CPU {S.cpu_seconds(agent.pid):.1f} s, "
                      f"collector CPU {S.cpu_seconds(collector.pid) - collector_cpu0:.1f} s", flush=True)
        memory_end = S.memory_kib(agent.pid)
        with open(f"/proc/{agent.pid}/status") as f:
            vm_hwm = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    finally:
        db.close()

    print(f"  {name}: stopping the agent (it delivers its last batches), then the collector", flush=True)
    stop_ms = int(time.time() * 1000)
    code = agent.stop(grace_s=30)
    if code != 0:
        raise S.BenchError(f"{name}: the agent exited with {code}:\n{agent.tail()}")
    agent_log = agent.log.read_text(errors="replace")
    stopped = STOPPED.search(agent_log)
    if stopped is None:
        raise S.BenchError(f"{name}: the agent did not log its 'stopped: … polls' line:\n{agent.tail()}")
    polls, failed, unacked = (int(x) for x in stopped.groups())
    connected = CONNECTED.search(agent_log)
    if connected is None:
        raise S.BenchError(f"{name}: the agent did not log its 'connected to collector' line:\n{agent.tail()}")
    connected_ms = calendar.timegm(time.strptime(connected.group(1), "%Y-%m-%dT%H:%M:%S")) * 1000 + int(connected.group(2))
    code = collector.stop(grace_s=120)
    if code != 0:
        raise S.BenchError(f"{name}: the collector exited with {code}:\n{collector.tail()}")
    resent = COLLECTOR_STOPPED.search(collector.log.read_text(errors="replace"))

    store = count_store(database, start_ms)
    # "stopped: N polls" counts every poller's polls; the others (any poller on another device) each
    # stored one vigil_poll_up point. Counting them from the store errs towards "lost", never hides it.
    synthetic_polls = polls + failed - store["other_polls"]
    synthetic_failed = store["synthetic_error_points"]
    points_per_poll = args.series + 2  # + vigil_poll_up, vigil_poll_duration_seconds
    expected_live = (synthetic_polls - synthetic_failed) * points_per_poll + synthetic_failed * 2  # failed: up = 0, error_info
    delays = live_delays(database, backlog, start_ms, connected_ms, last_commit)
    clear_s = (last_commit - start_ms) / 1000
    return {
        "name": name,
        "live": live,
        "clear_s": clear_s,
        "drain_points_per_s": backlog["points"] / clear_s,
        "steady_points_per_s": backlog["points"] * (backlog["batches"] - 1) / backlog["batches"] / ((last_commit - first_commit) / 1000)
        if last_commit > first_commit else float("nan"),
        "first_commit_s": (first_commit - start_ms) / 1000,
        "connected_s": (connected_ms - start_ms) / 1000,
        "rss_max_mib": max(rss) / 1024,
        "rss_median_mib": statistics.median(rss) / 1024,
        "rss_anon_mib_at_end": memory_end.get("RssAnon", 0) / 1024,
        "vm_hwm_mib": vm_hwm / 1024,
        "agent_cores": at_clear["agent_cpu"] / at_clear["wall_s"],
        "collector_cores": at_clear["collector_cpu"] / at_clear["wall_s"],
        "agent_cpu_s": at_clear["agent_cpu"],
        "collector_cpu_s": at_clear["collector_cpu"],
        "agent_threads": split_threads(agent.pid, {}, at_clear["agent_threads"]),
        "collector_threads": split_threads(collector.pid, collector_threads0, at_clear["collector_threads"]),
        "polls": synthetic_polls,
        "failed_polls": synthetic_failed,
        "other_polls": store["other_polls"],
        "unacked_at_exit": unacked,
        "expected_backlog": backlog["points"],
        "expected_live": expected_live,
        "run_s": (stop_ms - start_ms) / 1000,
        "collector_resends_dropped": int(resent.group(3)) if resent else -1,
        **store,
        **delays,
        "lost_backlog": backlog["points"] - store["distinct_backlog"],
        "lost_live": expected_live - store["distinct_live"],
    }


def count_store(database: Path, start_ms: int) -> dict[str, int]:
    """Every point of the agent, unpacked: stored, distinct (series, timestamp), backlog and live apart.

    The backlog and the live load are the synthetic device's; anything the
    agent reports on other devices (its own status) is counted apart.
    """
    from collector.store.blocks import Block

    per_series: dict[int, array] = {}
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        blocks, distinct_seqs, n_points = db.execute(
            "SELECT count(*), count(DISTINCT seq), coalesce(sum(n_points), 0) FROM point_blocks WHERE agent_id = ?", (AGENT_ID,)
        ).fetchone()
        names = {sid: (device, metric) for sid, device, metric in
                 db.execute("SELECT series_id, device_id, metric FROM series WHERE agent_id = ?", (AGENT_ID,))}
        rows = db.execute("SELECT series_ids, counts, timestamps FROM point_blocks WHERE agent_id = ?", (AGENT_ID,))
        for series_ids, counts, timestamps in rows:
            block = Block.unpack(SimpleNamespace(series_ids=series_ids, counts=counts, timestamps=timestamps, point_values=b""))
            ts = block.timestamps
            for series_id, start, end in block.segments():
                found = per_series.get(series_id)
                if found is None:
                    found = per_series[series_id] = array("q")
                found.extend(ts[start:end])
    found = dict.fromkeys(
        ("stored", "distinct", "distinct_backlog", "distinct_live", "other_live", "other_polls", "synthetic_error_points", "series"), 0
    )
    for series_id, timestamps in per_series.items():
        device, metric = names[series_id]
        unique = set(timestamps)
        backlog = sum(1 for t in unique if t < start_ms)
        found["stored"] += len(timestamps)
        found["distinct"] += len(unique)
        if device == DEVICE:
            found["series"] += 1
            found["distinct_backlog"] += backlog
            found["distinct_live"] += len(unique) - backlog
            if metric == "vigil_poll_error_info":
                found["synthetic_error_points"] += len(unique) - backlog
        else:
            found["other_live"] += len(unique)
            if metric == "vigil_poll_up":
                found["other_polls"] += len(unique) - backlog
    if found["stored"] != n_points:
        raise S.BenchError(f"{database.name}: blocks unpack to {found['stored']} points but their n_points add up to {n_points}")
    return {
        **found,
        "duplicates": found["stored"] - found["distinct"],
        "blocks": int(blocks),
        "duplicate_blocks": int(blocks) - int(distinct_seqs),
    }


def live_delays(database: Path, backlog: dict, start_ms: int, connected_ms: int, clear_ms: int) -> dict[str, float]:
    """Commit time − oldest poll time of live batches: those polled during the drain, and those after it.

    Batches polled during the drain are also counted apart from those polled
    before the agent's stream was up: the transport sends those as part of
    the replay, oldest first, not as live batches.
    """
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT min_ts_ms, received_ms FROM point_blocks WHERE agent_id = ? AND seq > ? AND min_ts_ms >= ?",
            (AGENT_ID, backlog["last_seq"], start_ms),
        ).fetchall()
    during = [(received - ts) / 1000 for ts, received in rows if ts <= clear_ms]
    connected = [(received - ts) / 1000 for ts, received in rows if connected_ms <= ts <= clear_ms]
    after = [(received - ts) / 1000 for ts, received in rows if ts > clear_ms]
    nan = float("nan")
    return {
        "live_batches_during": len(during),
        "live_delay_max_s": max(during) if during else nan,
        "live_delay_median_s": statistics.median(during) if during else nan,
        "live_before_connect": len(during) - len(connected),
        "live_delay_connected_max_s": max(connected) if connected else nan,
        "live_delay_after_median_s": statistics.median(after) if after else nan,
        "live_delay_after_max_s": max(after) if after else nan,
    }


# =================================================================== main


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a 2-minute backlog instead of 10 minutes (under 90 s in all)")
    p.add_argument("--backlog", type=float, help="seconds of polls in the backlog (default 600, quick 120)")
    p.add_argument("--series", type=int, default=5000, help="synthetic series per poll (default 5000)")
    p.add_argument("--interval", type=float, default=1.0, help="synthetic poll interval, s (default 1: 5,000 points/s)")
    p.add_argument("--max-points", type=int, default=5000, help="agent batching max_points (default 5000)")
    p.add_argument("--window", type=int, default=32, help="agent max_in_flight_batches (default 32, the agent's default)")
    p.add_argument("--compression", choices=("gzip", "none"), default="gzip", help="agent compression (default gzip, the agent's default)")
    p.add_argument("--after", type=float, help="seconds of live flow kept after the backlog is stored (default 3, quick 2)")
    p.add_argument("--timeout", type=float, help="give up if the backlog is not stored within this many seconds (default 300, quick 40)")
    p.add_argument("--rollup-interval", default="5s", help="collector rollup_interval (default 5s, so rollups run all through the drain)")
    p.add_argument("--no-baseline", action="store_true", help="skip the run without live load")
    p.add_argument("--keep", action="store_true", help="keep the work directory (databases, logs, backlog)")
    args = p.parse_args()
    if args.backlog is None:
        args.backlog = 120.0 if args.quick else 600.0
    if args.after is None:
        args.after = 2.0 if args.quick else 3.0
    if args.timeout is None:
        args.timeout = 40.0 if args.quick else 300.0
    return args


def main() -> int:
    args = parse_args()
    S.sigterm_as_exit()
    started = time.monotonic()
    code_under_test = S.code_version()
    mode = "quick" if args.quick else "full"
    live_rate = (args.series + 2) / args.interval
    workdir = Path(tempfile.mkdtemp(prefix="vigil-bench-replay-"))
    print(f"replay benchmark ({mode}): {args.backlog:.0f} s backlog, live load {args.series} series every "
          f"{args.interval:g} s (≈{live_rate:,.0f} points/s), max_points {args.max_points}, "
          f"max_in_flight_batches {args.window}, compression {args.compression}")
    print(f"  work directory {workdir}")
    children: list[S.Child] = []
    runs: list[dict] = []
    try:
        certs = S.make_certs(workdir / "certs", [AGENT_ID])
        live_state = workdir / "live-state"
        backlog = build_backlog(write_agent_config(workdir / "build-agent.yaml", 1, certs, live_state, args, True), args.backlog)
        print(f"  backlog: {backlog['polls']} polls → {backlog['batches']} batches (seq {backlog['first_seq']}–{backlog['last_seq']}), "
              f"{backlog['points']:,} points, {backlog['bytes'] / 1048576:.0f} MiB in the buffer, "
              f"written in {backlog['build_s']:.1f} s by the agent's batcher and buffer", flush=True)
        baseline_state = workdir / "baseline-state"
        if not args.no_baseline:
            shutil.copytree(live_state, baseline_state)
        runs.append(drain("live", workdir, certs, live_state, backlog, args, True, children))
        if not args.no_baseline:
            runs.append(drain("baseline", workdir, certs, baseline_state, backlog, args, False, children))
    except S.BenchError as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        S.cleanup(children, workdir, args.keep)

    from agent.config import Buffer

    S.print_provenance(code_under_test)
    print(f"backlog: {backlog['points']:,} points ({backlog['polls']} polls of {args.series + 2:,} points, "
          f"{backlog['batches']} batches, {backlog['bytes'] / 1048576:.0f} MiB); agent max_in_flight_batches {args.window}, "
          f"replay_share {Buffer().replay_share:g} (the agent's default), compression {args.compression}; "
          f"collector rollup_interval {args.rollup_interval}; "
          "clock from the agent's process start\n")
    labels = {"live": f"live load ≈{live_rate:,.0f} points/s", "baseline": "baseline: no live load"}
    print(S.table(
        [[labels[r["name"]], f"{r['clear_s']:.1f}", f"{r['drain_points_per_s']:,.0f}", f"{r['steady_points_per_s']:,.0f}",
          f"{r['rss_max_mib']:.1f}", f"{r['vm_hwm_mib']:.1f}", f"{r['agent_cores']:.2f}", f"{r['collector_cores']:.2f}",
          f"{r['live_delay_max_s']:.1f} / {r['live_delay_connected_max_s']:.1f}" if r["live"] else "–", f"{r['lost_backlog'] + r['lost_live']:,}", f"{r['duplicates']:,}"]
         for r in runs],
        ["run", "clear s", "drain points/s", "first→last commit points/s", "agent RSS max MiB", "agent VmHWM MiB",
         "agent cores", "collector cores", "live max delay s (all / polled after connect)", "lost", "duplicated"],
    ))
    for r in runs:
        print(f"\n{labels[r['name']]}:")
        print(f"  agent connected {r['connected_s']:.2f} s after its start; first backlog batch committed "
              f"{r['first_commit_s']:.1f} s after its start; "
              f"agent RSS median {r['rss_median_mib']:.1f} MiB, anonymous {r['rss_anon_mib_at_end']:.1f} MiB at the end")
        print(f"  CPU until the backlog was stored: agent {r['agent_cpu_s']:.1f} s, collector {r['collector_cpu_s']:.1f} s "
              f"({1e6 * r['collector_cpu_s'] / r['expected_backlog']:.2f} s per million backlog points)")
        print("  agent CPU by thread: " + ", ".join(f"{k} {v:.1f} s" for k, v in r["agent_threads"].items()))
        print("  collector CPU by thread: " + ", ".join(f"{k} {v:.1f} s" for k, v in r["collector_threads"].items()))
        if r["live"]:
            print(f"  live batches polled during the drain: {r['live_batches_during']} ({r['live_before_connect']} before the "
                  f"stream was up: sent as replay), poll → commit median {r['live_delay_median_s']:.2f} s, max "
                  f"{r['live_delay_max_s']:.2f} s (polled after connect: max {r['live_delay_connected_max_s']:.2f} s); after the drain median "
                  f"{r['live_delay_after_median_s']:.2f} s, max {r['live_delay_after_max_s']:.2f} s")
        print(f"  store: {r['stored']:,} points in {r['blocks']} blocks, {r['series']} series of device {DEVICE}; expected "
              f"{r['expected_backlog']:,} backlog + {r['expected_live']:,} live ({r['polls']} polls, {r['failed_polls']} failed) "
              f"= {r['expected_backlog'] + r['expected_live']:,}"
              + (f"; besides, {r['other_live']:,} points of the agent's other pollers ({r['other_polls']} polls)" if r["other_live"] else ""))
        print(f"  lost: {r['lost_backlog']:,} backlog + {r['lost_live']:,} live; duplicated points {r['duplicates']:,} "
              f"(blocks with a repeated seq: {r['duplicate_blocks']}); agent exited with {r['unacked_at_exit']} batches "
              f"unacknowledged; collector dropped {r['collector_resends_dropped']} resent batches")
    main_run = runs[0]
    lost = main_run["lost_backlog"] + main_run["lost_live"]
    rate_ok = main_run["drain_points_per_s"] >= DRAIN_TARGET
    rss_ok = main_run["rss_max_mib"] <= RSS_TARGET_MIB
    print(f"\ntarget drain ≥ {DRAIN_TARGET:,} points/s: {'met' if rate_ok else 'MISSED'} ({main_run['drain_points_per_s']:,.0f})")
    print(f"target agent RSS ≤ {RSS_TARGET_MIB:.0f} MiB during the drain: {'met' if rss_ok else 'MISSED'} "
          f"({main_run['rss_max_mib']:.1f} MiB, max of 0.5 s samples)")
    print(f"target nothing missing, nothing duplicated: {'met' if not lost and not main_run['duplicates'] else 'MISSED'} "
          f"({lost:,} lost, {main_run['duplicates']:,} duplicated)")
    print(f"total time {time.monotonic() - started:.0f} s")
    print(S.result_line({
        "drain_points_per_s": round(main_run["drain_points_per_s"]),
        "backlog_clear_s": round(main_run["clear_s"], 2),
        "agent_rss_mib": round(main_run["rss_max_mib"], 1),
        "lost_points": lost,
        "duplicate_points": main_run["duplicates"],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
