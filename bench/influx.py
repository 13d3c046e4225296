"""InfluxDB sink: the collector's outbox → VictoriaMetrics, beside plain HTTP POSTs; then a 30 s outage.

    .venv/bin/python bench/influx.py            # full: 2,000,000 points × 2 rounds, 30 s outage (about 2 min)
    .venv/bin/python bench/influx.py --quick    # 500,000 points × 3 rounds, 10 s outage (about 1 min)

Three parts, each run against a fresh `victoria-metrics` (Debian's; it
accepts the InfluxDB v2 write API influxdb-client speaks). Parts 1 and 2 are
run in rounds (`--rounds`: full 2, quick 3), sink and baseline one after the
other with the order swapped every round, and pooled (points ÷ seconds over
all rounds): on a shared machine one pair alone moved by ±30 %.

1. **sink** — a SQLite store filled (outside the clock) through the
   collector's own `MetricWriter` with agent-shaped batches: 8 agents × 10
   SNMP switches × 5 interfaces × 10 interface metrics, 500 series × 10
   points per batch. Then the real `SinkRunner` with the real InfluxDB sink
   (influxdb-client's WriteService, gzip at the sink's default level 1,
   `batch_points` 5000) sends the whole outbox from its cursor: read blocks,
   format line protocol, gzip, write, commit the cursor. Clock: runner
   start → last cursor commit. Each round's sink has its own name, so its
   own cursor, starting at block 0.
2. **baseline** — the same line protocol (formatted by the sink's encoder
   before the clock) POSTed with `http.client` on one keep-alive connection,
   in the same requests (the sink's own cut), gzip'd inside the clock at the same level, with the
   same headers and query. What it leaves out is exactly what the sink
   adds: reading the store, formatting, the client library, the cursor.
   An extra row, not a target: the sink's own reading and formatting code
   inside the clock, then the same plain POSTs, in one thread — what the
   sink costs beyond formatting (client, threads, cursor commits).
3. **outage** — the real collector process (`python -m collector.main`,
   mutual TLS, SQLite, the sink configured, `/metrics` on) and a real agent
   (`python -m agent.main run`, synthetic poller, 2,000 series a second).
   After a steady spell VictoriaMetrics is stopped (SIGTERM) for 30 s
   (quick 10 s) and started again on the same data; after another steady
   spell the agent stops and the sink is given time to catch up
   (its cursor at the newest block, read from the store). Then every point of the store
   is looked for in VictoriaMetrics: missing = stored − found (distinct),
   duplicated = found − distinct. Poll → commit times (`received_ms − max_ts`
   of each block) show whether the agents were slowed during the outage.

Every throughput run is verified: VictoriaMetrics must hold exactly the
points sent (else FAILED, exit 1, no RESULT).
RESULT keys: `points_per_s`, `baseline_points_per_s`, `missing_points`
(plus `ratio`, `duplicate_points`, `outage_s`).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import http.client
import json
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _support as S  # noqa: E402  (puts the repo root on sys.path)

NET_METRICS = (
    "net_recv_bits_per_second", "net_sent_bits_per_second", "net_recv_packets_per_second", "net_sent_packets_per_second",
    "net_errors_in_per_second", "net_errors_out_per_second", "net_drops_in_per_second", "net_drops_out_per_second",
    "net_utilisation_percent", "net_oper_up",
)
SWITCHES, INTERFACES, POINTS_PER_SERIES = 10, 5, 10
BATCH_POINTS = SWITCHES * INTERFACES * len(NET_METRICS) * POINTS_PER_SERIES  # 5,000, as the agent's default batch
OUTAGE_AGENT = "bench-outage-agent"


# =================================================================== VictoriaMetrics


class Victoria:
    def __init__(self, workdir: Path, name: str, children: list[S.Child], port: int | None = None, data: Path | None = None) -> None:
        binary = shutil.which("victoria-metrics")
        if binary is None:
            raise S.BenchError("victoria-metrics not found: `apt-get install victoria-metrics` (tests/run.sh installs it)")
        self.port = port or S.free_port()
        self.data = data or workdir / f"{name}-data"
        self.child = S.Child(name, [
            binary, f"-httpListenAddr=127.0.0.1:{self.port}", f"-storageDataPath={self.data}", "-retentionPeriod=100y",
            "-search.latencyOffset=0s", "-search.disableCache",
        ], workdir / f"{name}.log")
        children.append(self.child)
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as reply:
                    if reply.read().strip() == b"OK":
                        return
            except OSError:
                pass
            if not self.child.alive() or time.monotonic() > deadline:
                raise S.BenchError(f"victoria-metrics did not start:\n{self.child.tail()}")
            time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def points(self, match: str, expected: int | None = None) -> tuple[int, int]:
        """(points stored, distinct (series, timestamp)) of the series matching `match`.

        VictoriaMetrics makes what it received searchable in the background; with
        `expected`, the count is read again (up to 20 s) until it stops growing.
        """
        found, deadline = self._count(match), time.monotonic() + 20
        while expected is not None and found[0] < expected and time.monotonic() < deadline:
            time.sleep(1)
            again = self._count(match)
            if again == found:
                break
            found = again
        return found

    def _count(self, match: str) -> tuple[int, int]:
        urllib.request.urlopen(f"{self.url}/internal/force_flush", timeout=30).read()
        query = urllib.parse.urlencode({"match[]": match, "start": "0"})
        total, distinct = 0, 0
        with urllib.request.urlopen(f"{self.url}/api/v1/export?{query}", timeout=300) as reply:
            for line in reply:
                if line.strip():
                    stamps = json.loads(line)["timestamps"]
                    total += len(stamps)
                    distinct += len(set(stamps))
        return total, distinct


# =================================================================== part 1 and 2: outbox → VictoriaMetrics


def fill_store(path: Path, batches: int, seed: int = 7):  # type: ignore[no-untyped-def]
    """A collector store holding `batches` agent-shaped batches of 5,000 points; returns its engine."""
    from collector.decode import SeriesChecker, decode
    from collector.store import database, registry
    from collector.store.writer import MetricWriter
    from protos import serieskey
    from protos.vigil.v1 import agent_pb2 as pb

    rng = random.Random(seed)
    engine = database.open_store(database.sqlite_url(path))
    agents = [f"bench-agent-{i:02d}" for i in range(1, 9)]
    switches = [f"sw-{i:02d}" for i in range(1, SWITCHES + 1)]
    for a, agent in enumerate(agents):
        hello = pb.Hello(agent_id=agent, customer=f"客户 {a + 1}", site="上海机房", agent_version="bench", protocol="vigil.v1")
        for d, switch in enumerate(switches):
            hello.devices.add(id=switch, name=switch, kind="switch", address=f"10.{a}.0.{d + 1}", pollers=["snmp"])
        registry.register(engine, hello, "bench", int(time.time() * 1000))
    writer = MetricWriter(engine)
    base_ms = (int(time.time()) - 86_400) * 1000
    seq = {agent: 0 for agent in agents}
    for n in range(batches):
        agent = agents[n % len(agents)]
        seq[agent] += 1
        t0 = base_ms + seq[agent] * POINTS_PER_SERIES * 1000
        stamps = [t0 + k * 1000 for k in range(POINTS_PER_SERIES)]
        message = pb.MetricBatch(seq=seq[agent])
        for switch in switches:
            for i in range(1, INTERFACES + 1):
                labels = (("alias", f"to rack {i}"), ("interface", f"GigabitEthernet1/0/{i}"))
                for metric in NET_METRICS:
                    if metric == "net_oper_up":
                        values = [1.0] * POINTS_PER_SERIES
                    else:
                        level = rng.uniform(1e3, 1e9)
                        values = [level * rng.uniform(0.8, 1.2) for _ in range(POINTS_PER_SERIES)]
                    serieskey.add_series(message, switch, metric, labels, stamps, values)
        batch = decode(agent, message, SeriesChecker(set(switches)), now_ms=int(time.time() * 1000))
        writer.write([batch], int(time.time() * 1000))
    return engine


def run_sink(engine, url: str, total_points: int, last_block: int, batch_points: int, gzip_level: int,  # type: ignore[no-untyped-def]
             name: str = "bench") -> dict:
    """The sink `name` (a cursor of its own: each round starts from block 0) sends the whole outbox."""
    from collector.config import InfluxDBSink
    from collector.sinks import build
    from collector.sinks.runner import SinkRunner

    config = InfluxDBSink(name=name, kind="influxdb", url=url, org="bench", bucket="vigil", token="bench-token",
                          batch_points=batch_points, gzip_level=gzip_level, flush_interval=0.05)
    runner = SinkRunner(engine, build(config), batch_points=batch_points, flush_interval_s=0.05, status_interval_s=60)

    async def main() -> float:
        task = asyncio.create_task(runner.run())
        started = time.monotonic()
        try:
            while runner.position[0] < last_block:
                if task.done():
                    task.result()
                    raise S.BenchError("the sink stopped")
                if runner.retries:
                    raise S.BenchError(f"the sink had to retry: {runner.last_error}")
                await asyncio.sleep(0.005)
            return time.monotonic() - started
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    import os
    import threading

    def by_thread() -> dict[str, float]:
        """CPU seconds per thread: the sink's threads by their role, the event loop (and this bench's wait) as "loop"."""
        names = {t.native_id: t.name for t in threading.enumerate()}
        found: dict[str, float] = {}
        for tid, (_, seconds) in S.thread_cpu_seconds(os.getpid()).items():
            role = names.get(tid, "other")
            role = "loop" if role == "MainThread" else role.removeprefix(f"sink-{name}-").rsplit("_", 1)[0]
            found[role] = found.get(role, 0.0) + seconds
        return found

    cpu0, threads0 = S.cpu_seconds(os.getpid()), by_thread()
    elapsed = asyncio.run(main())
    cpu, threads = S.cpu_seconds(os.getpid()) - cpu0, by_thread()   # the sink's threads live until close()
    runner.close()
    if runner.points_sent != total_points:
        raise S.BenchError(f"the sink sent {runner.points_sent:,} points, the store holds {total_points:,}")
    threads = {role: seconds - threads0.get(role, 0.0) for role, seconds in threads.items() if role in ("loop", "read", "send", "commit")}
    return {"seconds": elapsed, "cpu_s": cpu, "requests": runner.requests_sent, "threads": threads}


def _bodies(engine, name: str, batch_points: int):  # type: ignore[no-untyped-def]
    """The sink's own request texts for the whole outbox: its reads, its encoder, its cut into requests."""
    from collector.sinks.lineprotocol import LineEncoder
    from collector.sinks.outbox import Outbox
    from collector.sinks.runner import REQUESTS_PER_BATCH, cut_requests

    box, encoder, position = Outbox(engine, name, batch_points * REQUESTS_PER_BATCH), LineEncoder("ms"), (0, 0)
    while not (batch := box.read(position)).empty:
        yield from (lines.text for lines in cut_requests(encoder.encode(batch).parts, batch_points))
        position = batch.end


def prepare_baseline(engine, batch_points: int) -> list[bytes]:  # type: ignore[no-untyped-def]
    """The sink's line protocol for the whole outbox, request by request (outside the clock)."""
    return list(_bodies(engine, "baseline", batch_points))


def run_baseline(url: str, bodies: list[bytes], gzip_level: int) -> dict:
    """The same bodies, gzip'd and POSTed one after the other on one keep-alive connection."""
    return _post_all(url, iter(bodies), gzip_level)


def run_format_and_post(url: str, engine, batch_points: int, gzip_level: int) -> dict:  # type: ignore[no-untyped-def]
    """An extra row: reading and formatting inside the clock (the sink's own code), then the plain POSTs."""
    return _post_all(url, _bodies(engine, "formatted", batch_points), gzip_level)


def _post_all(url: str, bodies, gzip_level: int) -> dict:  # type: ignore[no-untyped-def]
    import os

    port = int(url.rsplit(":", 1)[1])
    cpu0 = S.cpu_seconds(os.getpid())
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "text/plain; charset=utf-8", "Content-Encoding": "gzip", "Authorization": "Token bench-token",
               "Accept": "application/json"}
    requests = 0
    for body in bodies:
        connection.request("POST", "/api/v2/write?org=bench&bucket=vigil&precision=ms", gzip.compress(body, gzip_level), headers)
        reply = connection.getresponse()
        reply.read()
        if reply.status != 204:
            raise S.BenchError(f"plain POST answered {reply.status}")
        requests += 1
    elapsed = time.monotonic() - started
    connection.close()
    return {"seconds": elapsed, "cpu_s": S.cpu_seconds(os.getpid()) - cpu0, "requests": requests}


# =================================================================== part 3: outage under steady ingest


def outage(workdir: Path, args: argparse.Namespace, children: list[S.Child]) -> dict:
    certs = S.make_certs(workdir / "certs", [OUTAGE_AGENT])
    victoria = Victoria(workdir, "outage-victoria", children)
    database = workdir / "outage.db"
    config = S.write_collector_config(workdir / "outage-collector.yaml", certs, database, "5s")
    with open(config, "a") as f:
        f.write(
            "metrics_listen: 127.0.0.1:0\n"
            "sinks:\n"
            f"  - {{name: influx, kind: influxdb, url: '{victoria.url}', org: bench, bucket: vigil, token: bench-token, "
            "max_retry_interval: 2s}\n"
        )
    collector, port = S.start_collector(workdir, config, name="outage-collector")
    children.append(collector)
    metrics_port = json.loads((workdir / "outage-collector.ready.json").read_text())["metrics_port"]
    agent_config = workdir / "outage-agent.yaml"
    agent_config.write_text(
        f"agent: {{id: {OUTAGE_AGENT}, customer: bench-customer, site: bench-site}}\n"
        "collector:\n"
        f'  address: "127.0.0.1:{port}"\n'
        "  tls:\n"
        f"    ca: {certs / 'ca.pem'}\n"
        f"    cert: {certs / 'agents' / (OUTAGE_AGENT + '.pem')}\n"
        f"    key: {certs / 'agents' / (OUTAGE_AGENT + '.key')}\n"
        f"state_dir: {workdir / 'outage-agent-state'}\n"
        "pollers:\n"
        "  host: {enabled: false}\n"
        f"  synthetic: {{enabled: true, interval: 1s, series: {args.series}, device_id: synthetic}}\n"
        "batching: {max_points: 5000, max_delay: 1s}\n"
    )
    agent = S.Child("outage-agent", [sys.executable, "-m", "agent.main", "run", "-c", str(agent_config)], workdir / "outage-agent.log")
    children.append(agent)

    def skipped_points() -> float:
        text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("vigil_sink_skipped_points_total"))

    store = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)

    def backlog() -> tuple[int, float]:
        """(blocks the sink has not sent, seconds the oldest of them has waited), from the store."""
        sent = store.execute("SELECT coalesce(max(position), 0) FROM cursors WHERE name = 'sink:influx'").fetchone()[0]
        n, oldest = store.execute("SELECT count(*), min(received_ms) FROM point_blocks WHERE block_id > ? AND n_points > 0", (sent,)).fetchone()
        return n, (time.time() - oldest / 1000 if oldest else 0.0)

    def alive() -> None:
        for child in (agent, collector):
            if not child.alive():
                raise S.BenchError(f"{child.name} exited with {child.process.returncode}:\n{child.tail()}")

    print(f"  outage: collector pid {collector.pid}, agent pid {agent.pid} ({args.series:,} series/s), "
          f"victoria-metrics on {victoria.url}", flush=True)
    time.sleep(args.steady)
    alive()
    down_ms = int(time.time() * 1000)
    victoria.child.stop()
    print(f"  outage: victoria-metrics stopped for {args.outage:.0f} s", flush=True)
    peak_lag = 0.0
    end = time.monotonic() + args.outage
    while time.monotonic() < end:
        time.sleep(0.5)
        alive()
        peak_lag = max(peak_lag, backlog()[1])
    up_ms = int(time.time() * 1000)
    victoria = Victoria(workdir, "outage-victoria-again", children, port=victoria.port, data=victoria.data)
    restarted = time.monotonic()
    print(f"  outage: victoria-metrics started again; the oldest unsent point had waited {peak_lag:.1f} s", flush=True)
    caught_up_s = None
    while time.monotonic() - restarted < max(args.steady, 60 if caught_up_s is None else 0):
        time.sleep(0.1)
        alive()
        if caught_up_s is None and backlog()[1] <= 2.0:  # within the flush interval and the agent's batching
            caught_up_s = time.monotonic() - restarted
        if caught_up_s is not None and time.monotonic() - restarted >= args.steady:
            break
    if caught_up_s is None:
        raise S.BenchError("the sink did not catch up within 60 s of the restart")
    agent.stop()
    deadline = time.monotonic() + 60
    while backlog()[0]:  # what the agent sent last
        if time.monotonic() > deadline:
            raise S.BenchError("the sink did not send the last batches within 60 s")
        time.sleep(0.2)
    store.close()
    skipped = skipped_points()
    if collector.stop() != 0:
        raise S.BenchError(f"the collector did not stop cleanly:\n{collector.tail()}")

    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    stored = db.execute("SELECT coalesce(sum(n_points), 0) FROM point_blocks WHERE agent_id = ?", (OUTAGE_AGENT,)).fetchone()[0]
    rows = db.execute("SELECT max_ts_ms, received_ms FROM point_blocks WHERE agent_id = ? AND n_points > 0", (OUTAGE_AGENT,)).fetchall()
    db.close()
    total, distinct = victoria.points(f'{{agent="{OUTAGE_AGENT}"}}', expected=int(stored) - int(skipped))
    during = [(r - ts) / 1000 for ts, r in rows if down_ms <= ts <= up_ms]
    before = [(r - ts) / 1000 for ts, r in rows if ts < down_ms]
    return {
        "stored": int(stored), "in_vm": total, "distinct": distinct, "skipped": int(skipped),
        "missing": int(stored) - int(skipped) - distinct, "duplicates": total - distinct,
        "peak_lag_s": peak_lag, "caught_up_s": caught_up_s,
        "delay_before": (statistics.median(before), max(before)) if before else (float("nan"),) * 2,
        "delay_during": (statistics.median(during), max(during)) if during else (float("nan"),) * 2,
    }


# =================================================================== main


def _default_gzip_level() -> int:
    from collector.config import InfluxDBSink

    return int(InfluxDBSink.model_fields["gzip_level"].default)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="500,000 points and a 10 s outage (under 90 s in all)")
    p.add_argument("--points", type=int, help="points in the outbox (default 2,000,000, quick 500,000; whole batches of 5,000)")
    p.add_argument("--batch-points", type=int, default=5000, help="lines per write request, sink and baseline (default 5000)")
    p.add_argument("--gzip-level", type=int, default=_default_gzip_level(), help="gzip level, sink and baseline (default: the sink's, %(default)s)")
    p.add_argument("--outage", type=float, help="seconds victoria-metrics is down (default 30, quick 10)")
    p.add_argument("--steady", type=float, help="seconds of steady ingest before and after the outage (default 10, quick 5)")
    p.add_argument("--series", type=int, default=2000, help="synthetic series per second during the outage part (default 2000)")
    p.add_argument("--rounds", type=int, help="sink and baseline runs each, alternating (default 2, quick 3); figures pool them")
    p.add_argument("--no-outage", action="store_true", help="skip part 3")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    args = p.parse_args()
    args.points = args.points or (500_000 if args.quick else 2_000_000)
    args.rounds = max(1, args.rounds or (3 if args.quick else 2))
    args.outage = args.outage if args.outage is not None else (10.0 if args.quick else 30.0)
    args.steady = args.steady if args.steady is not None else (5.0 if args.quick else 10.0)
    return args


def main() -> int:
    args = parse_args()
    S.sigterm_as_exit()
    code_under_test = S.code_version()
    mode = "quick" if args.quick else "full"
    batches = max(1, args.points // BATCH_POINTS)
    points = batches * BATCH_POINTS
    load_at_start = Path("/proc/loadavg").read_text().split()[:3]
    workdir = Path(tempfile.mkdtemp(prefix="vigil-bench-influx-"))
    print(f"influx benchmark ({mode}): {points:,} points in the outbox, batch_points {args.batch_points}, "
          f"outage {args.outage:.0f} s under {args.series:,} points/s")
    print(f"  work directory {workdir}")
    children: list[S.Child] = []
    started = time.monotonic()
    try:
        t = time.monotonic()
        engine = fill_store(workdir / "outbox.db", batches)
        print(f"  store filled: {points:,} points in {batches} blocks ({time.monotonic() - t:.1f} s, outside the clock)", flush=True)

        t = time.monotonic()
        bodies = prepare_baseline(engine, args.batch_points)
        print(f"  baseline: {len(bodies)} bodies formatted ({time.monotonic() - t:.1f} s, outside the clock)", flush=True)

        def measured(label: str, run):  # type: ignore[no-untyped-def]
            """`run(url)` against a fresh victoria-metrics, which must then hold exactly every point."""
            victoria = Victoria(workdir, f"{label}-victoria", children)
            vm_cpu0 = S.cpu_seconds(victoria.child.pid)
            result = run(victoria.url)
            result["vm_cpu_s"] = S.cpu_seconds(victoria.child.pid) - vm_cpu0
            total, distinct = victoria.points('{__name__=~"interface_.*"}', expected=points)
            if (total, distinct) != (points, points):
                raise S.BenchError(f"victoria-metrics holds {total:,} points ({distinct:,} distinct) after {label}; expected {points:,}")
            victoria.child.stop()
            print(f"  {label}: {points / result['seconds']:,.0f} points/s ({result['seconds']:.2f} s, "
                  f"{result['requests']} requests), verified", flush=True)
            return result

        # Rounds: sink and baseline one after the other, the order swapped every round, so that
        # a burst of load from elsewhere on the machine does not land on one side only.
        sinks, baselines = [], []
        for r in range(1, args.rounds + 1):
            pair = [
                lambda r=r: sinks.append(measured(f"sink round {r}", lambda url: run_sink(
                    engine, url, points, batches, args.batch_points, args.gzip_level, name=f"bench-{r}"))),
                lambda r=r: baselines.append(measured(f"baseline round {r}", lambda url: run_baseline(url, bodies, args.gzip_level))),
            ]
            for run in pair if r % 2 else pair[::-1]:
                run()
        formatted = measured("read + format + plain POST", lambda url: run_format_and_post(url, engine, args.batch_points, args.gzip_level))
        engine.dispose()

        result = None if args.no_outage else outage(workdir, args, children)
    except S.BenchError as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        S.cleanup(children, workdir, args.keep)

    S.print_provenance(code_under_test)
    print(f"load average (1, 5, 15 min) at the start {' '.join(load_at_start)}, at the end "
          f"{' '.join(Path('/proc/loadavg').read_text().split()[:3])}: other work on the machine moves every figure")
    import influxdb_client

    print(f"influxdb-client {influxdb_client.__version__}, gzip level {args.gzip_level} (sink and baseline); outbox: SQLite, {batches} blocks "
          f"of {BATCH_POINTS:,} points (8 agents × 10 SNMP switches × 5 interfaces × 10 metrics × 10 points); "
          f"{args.batch_points} lines per request; whole run {time.monotonic() - started:.0f} s\n")
    rows = []
    runs = [(f"sink, round {r}: outbox → influxdb-client → VM", run) for r, run in enumerate(sinks, 1)]
    runs += [(f"baseline, round {r}: plain HTTP POST → VM", run) for r, run in enumerate(baselines, 1)]
    runs.append(("(extra) read + format + plain POST, one thread", formatted))
    for name, run in runs:
        rows.append([name, f"{points / run['seconds']:,.0f}", f"{run['seconds']:.2f}", run["requests"],
                     f"{1e6 * run['cpu_s'] / points:.2f}", f"{1e6 * run['vm_cpu_s'] / points:.2f}"])
    print(S.table(rows, ["run", "points/s", "seconds", "requests", "sender CPU s / M points", "VM CPU s / M points"]))
    print("sink CPU s / M points by thread: " + "; ".join(
        f"round {r}: " + ", ".join(f"{role} {1e6 * seconds / points:.2f}" for role, seconds in sorted(run["threads"].items()))
        for r, run in enumerate(sinks, 1)))
    sink_s, baseline_s = sum(run["seconds"] for run in sinks), sum(run["seconds"] for run in baselines)
    ratio = baseline_s / sink_s
    per_round = ", ".join(f"{b['seconds'] / a['seconds']:.2f}" for a, b in zip(sinks, baselines))
    print(f"\nall rounds: sink {len(sinks) * points / sink_s:,.0f} points/s, "
          f"baseline {len(baselines) * points / baseline_s:,.0f} points/s; "
          f"sink / baseline {ratio:.2f}× (rounds: {per_round}); "
          f"sink / (read + format + plain POST): {formatted['seconds'] * len(sinks) / sink_s:.2f}×")
    values: dict[str, object] = {
        "points_per_s": round(len(sinks) * points / sink_s), "baseline_points_per_s": round(len(baselines) * points / baseline_s),
        "ratio": round(ratio, 3),
    }
    if result is not None:
        print()
        print(S.table([[
            f"{args.outage:.0f} s", f"{result['stored']:,}", f"{result['in_vm']:,}", f"{result['missing']:,}",
            f"{result['duplicates']:,}", f"{result['peak_lag_s']:.0f} s", f"{result['caught_up_s']:.1f} s",
            f"{result['delay_before'][0]:.2f} / {result['delay_before'][1]:.2f}", f"{result['delay_during'][0]:.2f} / {result['delay_during'][1]:.2f}",
        ]], ["outage", "points stored", "points in VM", "missing", "duplicated", "lag at its peak", "caught up after restart",
             "poll→commit s before (median/max)", "during outage (median/max)"]))
        if result["skipped"]:
            print(f"  ({result['skipped']:,} NaN/Inf points not representable in line protocol, not counted as missing)")
        values.update({"missing_points": result["missing"], "duplicate_points": result["duplicates"], "outage_s": args.outage})
    targets = [("≥ 100,000 points/s", values["points_per_s"] >= 100_000), ("≥ 0.8 × baseline", ratio >= 0.8)]  # type: ignore[operator]
    if result is not None:
        targets.append(("0 missing", result["missing"] == 0))
    print("\ntargets: " + ", ".join(f"{name} {'met' if ok else 'NOT met'}" for name, ok in targets))
    print(S.result_line(values))
    return 0


if __name__ == "__main__":
    sys.exit(main())
