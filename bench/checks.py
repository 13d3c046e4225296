"""Checks: how many points the full check library judges per CPU-second, and how soon an anomaly is an incident.

    .venv/bin/python bench/checks.py            # full: 10,580 series × 60 rounds, 120 anomalies (about 1 min 20 s)
    .venv/bin/python bench/checks.py --quick    # 10,580 series × 20 rounds, 40 anomalies (about 35 s)

Two parts.

1. **Throughput** (in this process, one thread). A fleet of 10 agents,
   each with its own host (the series the host poller sends: CPUs, memory,
   swap, filesystems, disk I/O, interfaces, load, uptime, temperatures, the
   agent's buffer), a UPS and three 24-port switches over SNMP (interface
   rates, errors, states, utilisation, speed; CPU, memory, temperatures,
   fans, power supplies, uptime, poll status): 10,580 series, 3,440 of them
   judged by a check (and 720 `net_admin_up` that `interface_down` tracks).
   Each agent's poll round is one `DecodedBatch`, made by the collector's
   own `decode()` from a `MetricBatch` before the clock, one point per
   series per batch, as agents send live data (a poll every 60 s, a batch
   every few seconds); rounds 60 s apart in data time. Values are
   unremarkable except for a few instances per agent that turn bad halfway
   (a CPU, an enabled interface down, a temperature, a UPS on battery), so
   the evaluators do fire. They are fed to `CheckEngine.evaluate` with the
   whole library and its default thresholds, the way `CheckService` feeds
   it (its thread: `evaluate` per batch, `tick` once a second); findings go
   to a counter (the keeper's writes are in part 2). Clock: the thread's CPU
   time (`time.thread_time`) inside those calls. The first round routes
   every series to its checks (once in a series' life) and is reported
   apart; `points_per_s` is the rounds after it. Beside it, the same batches
   through an engine with no checks: routing's floor (a dict lookup per
   series per batch, the batch loop). Two more rows: the batches cut down to
   the judged series (every point goes to an evaluator), and a replayed
   backlog's shape, ten rounds per batch. Each is run `--rounds` times (3);
   the median counts.
2. **Latency** (real processes on 127.0.0.1). `python -m collector.main`
   (mutual TLS, SQLite, the check engine on, an overrides file that sets
   `cpu_high`'s `for` to 0 on the bench's device, so the first bad point
   fires) and a real agent: this file with `--role agent`, which is
   `agent.main run` with the synthetic poller's `collect()` wrapped so that
   each poll also reports `cpu_usage_percent` of one CPU instance per
   anomaly to come (`cpu="bench-000"`…, 120; quick 40) at 10 %, until its
   turn: from the 6th poll on, two instances a poll go to 99 % and stay
   there. The agent's whole path is real (scheduler, batcher, durable
   buffer, gRPC), with 2,000 synthetic series of background load a second
   and `batching.max_delay` 0.25 s (`--max-delay`; the agent's default is
   5 s: an agent meant to alert within a second must send within a second).
   Each anomaly opens its own incident (its own instance). The bench reads
   `incidents` every 10 ms; latency = the moment the row was first seen −
   the anomalous sample's timestamp (`happened_ms`, the agent's poll time).
   Split: sample → stored (`point_blocks.received_ms` of the batch holding
   it), stored → the engine saw it (`seen_ms`), stored → incident row.

RESULT keys: `points_per_s`, `incident_latency_p50_ms`,
`incident_latency_p99_ms` (plus `baseline_points_per_s` — no checks —,
`first_round_points_per_s`, `judged_points_per_s`, `backlog_points_per_s`,
`series`, `anomalies`).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _support as S  # noqa: E402  (puts the repo root on sys.path)

AGENTS, SWITCHES, PORTS = 10, 3, 24
POLL_MS = 60_000
LATENCY_AGENT = "bench-checks-agent"
LATENCY_DEVICE = "synthetic"
ANOMALY_FROM_POLL = 5
ANOMALIES_PER_POLL = 2
POINTS_TARGET = 200_000
LATENCY_TARGET_MS = 1000.0


# =================================================================== part 1: throughput


def host_series() -> list[tuple[str, tuple[tuple[str, str], ...], str]]:
    """(metric, labels, value kind) of what the host poller sends for one host."""
    out = [("cpu_usage_percent", (("cpu", "cpu-total"),), "cpu")]
    out += [("cpu_usage_percent", (("cpu", f"cpu{i}"),), "cpu") for i in range(4)]
    out += [(f"cpu_{m}_percent", (("cpu", "cpu-total"),), "pct") for m in ("user", "system", "iowait")]
    out += [("mem_used_percent", (), "mem")] + [(f"mem_{m}_bytes", (), "big") for m in ("total", "available", "used")]
    out += [("swap_used_percent", (), "low"), ("swap_used_bytes", (), "big"), ("swap_total_bytes", (), "big")]
    for path, dev in (("/", "sda1"), ("/var", "sda2"), ("/data", "sdb1")):
        labels = (("device", dev), ("fstype", "ext4"), ("path", path))
        out += [("disk_used_percent", labels, "disk"), ("disk_inodes_used_percent", labels, "low")]
        out += [(f"disk_{m}_bytes", labels, "big") for m in ("total", "used", "free")]
    for dev in ("sda", "sdb"):
        out += [(f"diskio_{m}", (("name", dev),), "rate") for m in
                ("reads_per_second", "writes_per_second", "read_bytes_per_second", "write_bytes_per_second", "busy_percent")]
    for nic in ("eth0", "eth1"):
        out += [(f"net_{m}", (("interface", nic),), "rate") for m in (
            "recv_bits_per_second", "sent_bits_per_second", "recv_packets_per_second", "sent_packets_per_second",
            "errors_out_per_second", "drops_in_per_second", "drops_out_per_second")]
        out += [("net_errors_in_per_second", (("interface", nic),), "zero")]
    out += [(f"system_{m}", (), "load") for m in ("load1", "load5", "load15")]
    out += [("system_uptime_seconds", (), "uptime"), ("system_n_cpus", (), "const"), ("processes_total", (), "big")]
    out += [("sensors_temperature_celsius", (("chip", "coretemp"), ("sensor", f"core{i}")), "temp") for i in range(4)]
    out += [(f"vigil_buffer_{m}", (), "zero") for m in ("points", "bytes", "batches", "oldest_age_seconds",
                                                        "dropped_points_total", "damaged_bytes_total")]
    out += [("vigil_poll_up", (("poller", "host"),), "one"), ("vigil_poll_duration_seconds", (("poller", "host"),), "low")]
    return out


def ups_series() -> list[tuple[str, tuple[tuple[str, str], ...], str]]:
    out = [("ups_on_battery", (), "zero"), ("ups_battery_charge_percent", (), "full"), ("ups_battery_remaining_seconds", (), "big"),
           ("ups_input_voltage_volts", (), "volts"), ("ups_output_voltage_volts", (), "volts"), ("ups_output_load_percent", (), "pct")]
    out += [("snmp_uptime_seconds", (), "uptime"), ("vigil_poll_up", (("poller", "snmp"),), "one"),
            ("vigil_poll_duration_seconds", (("poller", "snmp"),), "low")]
    return out


def switch_series() -> list[tuple[str, tuple[tuple[str, str], ...], str]]:
    out = []
    for port in range(1, PORTS + 1):
        iface = (("alias", f"to rack {port}"), ("interface", f"GigabitEthernet1/0/{port}"))
        out += [(f"net_{m}", iface, "rate") for m in (
            "recv_bits_per_second", "sent_bits_per_second", "recv_packets_per_second", "sent_packets_per_second",
            "errors_out_per_second", "drops_in_per_second", "drops_out_per_second")]
        out += [("net_errors_in_per_second", iface, "zero"), ("net_speed_bits_per_second", iface, "const")]
        out += [("net_oper_up", iface, "one"), ("net_admin_up", iface, "one")]
        out += [("net_utilisation_percent", (iface[0], ("direction", d), iface[1]), "pct") for d in ("in", "out")]
    out += [("cpu_usage_percent", (("cpu", "module 1"),), "cpu"), ("mem_used_percent", (("pool", "processor"),), "mem")]
    out += [("sensors_temperature_celsius", (("sensor", s),), "temp") for s in ("inlet", "cpu")]
    out += [("sensors_fan_ok", (("fan", f"fan {i}"),), "one") for i in range(1, 5)]
    out += [("sensors_power_supply_ok", (("psu", f"psu {i}"),), "one") for i in (1, 2)]
    out += [("snmp_uptime_seconds", (), "uptime"), ("vigil_poll_up", (("poller", "snmp"),), "one"),
            ("vigil_poll_duration_seconds", (("poller", "snmp"),), "low")]
    return out


# Instances that turn bad halfway through (per agent): (device, metric, labels, bad value).
TROUBLE = (
    ("host-1", "cpu_usage_percent", (("cpu", "cpu-total"),), 97.0),
    ("sw-01", "net_oper_up", (("alias", "to rack 3"), ("interface", "GigabitEthernet1/0/3")), 0.0),
    ("sw-02", "sensors_temperature_celsius", (("sensor", "inlet"),), 85.0),
    ("ups-1", "ups_on_battery", (), 1.0),
)


def value_of(kind: str, rng: random.Random, poll: int) -> float:
    if kind == "cpu":
        return rng.uniform(2, 60)
    if kind == "pct":
        return rng.uniform(0, 50)
    if kind == "mem":
        return rng.uniform(30, 70)
    if kind == "disk":
        return rng.uniform(40, 60)
    if kind == "low":
        return rng.uniform(0, 5)
    if kind == "big":
        return float(rng.randrange(1 << 20, 1 << 40))
    if kind == "rate":
        return rng.uniform(0, 1e8)
    if kind == "temp":
        return rng.uniform(35, 55)
    if kind == "load":
        return rng.uniform(0, 4)
    if kind == "uptime":
        return 86_400.0 + poll * POLL_MS / 1000
    if kind == "volts":
        return rng.uniform(218, 232)
    if kind == "full":
        return 100.0
    if kind == "one":
        return 1.0
    if kind == "zero":
        return 0.0
    return 4.0  # "const"


def fleet() -> tuple[dict[str, list[tuple[str, str, tuple[tuple[str, str], ...], str]]], dict[tuple[str, str], str]]:
    """agent → its series (device, metric, labels, value kind); (agent, device) → device kind."""
    series, kinds = {}, {}
    for a in range(1, AGENTS + 1):
        agent = f"bench-agent-{a:02d}"
        rows = [("host-1", m, labels, k) for m, labels, k in host_series()]
        rows += [("ups-1", m, labels, k) for m, labels, k in ups_series()]
        kinds[(agent, "host-1")], kinds[(agent, "ups-1")] = "server", "ups"
        for s in range(1, SWITCHES + 1):
            rows += [(f"sw-{s:02d}", m, labels, k) for m, labels, k in switch_series()]
            kinds[(agent, f"sw-{s:02d}")] = "switch"
        series[agent] = rows
    return series, kinds


def make_batches(polls: int, per_batch: int, seed: int = 11):  # type: ignore[no-untyped-def]
    """Every agent's poll rounds as `DecodedBatch`es (the collector's decode()), in arrival order."""
    from collector.decode import SeriesChecker, decode
    from protos import serieskey
    from protos.vigil.v1 import agent_pb2 as pb

    rng = random.Random(seed)
    series, kinds = fleet()
    trouble = {(d, m, labels): bad for d, m, labels, bad in TROUBLE}
    t0 = (int(time.time()) // 60 * 60 - polls * POLL_MS // 1000 - 3600) * 1000
    checkers = {agent: SeriesChecker({d for (a, d) in kinds if a == agent}) for agent in series}
    batches, seq = [], dict.fromkeys(series, 0)
    for first in range(0, polls, per_batch):
        rounds = range(first, min(polls, first + per_batch))
        for agent, rows in series.items():
            seq[agent] += 1
            message = pb.MetricBatch(seq=seq[agent])
            for device, metric, labels, kind in rows:
                bad = trouble.get((device, metric, labels))
                values = [bad if bad is not None and p >= polls // 2 else value_of(kind, rng, p) for p in rounds]
                serieskey.add_series(message, device, metric, labels, [t0 + p * POLL_MS for p in rounds], values)
            batches.append(decode(agent, message, checkers[agent], now_ms=int(time.time() * 1000)))
    return batches, kinds, sum(len(rows) for rows in series.values())


def evaluate_all(batches, kinds, with_checks: bool) -> dict:  # type: ignore[no-untyped-def]
    """Feed `batches` to a new engine as CheckService does; CPU seconds of the first round and of the rest."""
    from checks import library
    from collector.checks.engine import CheckEngine, DeviceInfo

    devices = {key: DeviceInfo("客户 1", "上海机房", kind) for key, kind in kinds.items()}
    found: list[object] = []
    engine = CheckEngine(library() if with_checks else {}, lambda a, d: devices.get((a, d)), found.append)
    first_agents = len({b.agent_id for b in batches})
    cpu_first = cpu_rest = 0.0
    points_first = points_rest = 0
    next_tick = time.monotonic() + 1.0
    started = time.monotonic()
    for n, batch in enumerate(batches):
        t = time.thread_time()
        engine.evaluate(batch)
        if batch.events:
            engine.evaluate_events(batch)
        if time.monotonic() >= next_tick:  # CheckService's thread ticks once a second
            engine.tick()
            next_tick = time.monotonic() + 1.0
        spent = time.thread_time() - t
        if n < first_agents:
            cpu_first, points_first = cpu_first + spent, points_first + batch.points
        else:
            cpu_rest, points_rest = cpu_rest + spent, points_rest + batch.points
    routes = engine._routes  # noqa: SLF001 - a benchmark's look inside: which series a check judges
    judged = {key for key, found_routes in routes.items() if any(r.evaluator is not None for r in found_routes)}
    return {
        "cpu_first": cpu_first, "points_first": points_first, "cpu_rest": cpu_rest, "points_rest": points_rest,
        "wall": time.monotonic() - started, "findings": len(found), "evaluated": engine.points_evaluated,
        "judged_series": len(judged), "judged": judged,
    }


def only(batches, keep: set[tuple[str, str]]):  # type: ignore[no-untyped-def]
    """The same batches holding only the series in `keep` ((agent, key))."""
    from array import array

    from collector.decode import DecodedBatch

    out = []
    for batch in batches:
        keys, counts, stamps, values, start = [], array("i"), array("q"), array("d"), 0
        for key, count in zip(batch.keys, batch.counts):
            if (batch.agent_id, key) in keep:
                keys.append(key)
                counts.append(count)
                stamps.extend(batch.timestamps[start : start + count])
                values.extend(batch.values[start : start + count])
            start += count
        out.append(DecodedBatch(batch.agent_id, batch.seq, keys, counts, stamps, values, min(stamps), max(stamps)))
    return out


def throughput(args: argparse.Namespace) -> dict:
    t = time.monotonic()
    live, kinds, n_series = make_batches(args.polls, 1)
    backlog, _, _ = make_batches(args.polls, 10, seed=12)
    print(f"  throughput: {n_series:,} series, {len(live)} live batches of one round, {len(backlog)} backlog batches of ten rounds "
          f"({time.monotonic() - t:.1f} s to build, outside the clock)", flush=True)
    runs: dict[str, list[dict]] = {"library": [], "none": [], "judged": [], "backlog": []}
    judged_batches = None
    for r in range(args.rounds):
        runs["library"].append(evaluate_all(live, kinds, True))
        runs["none"].append(evaluate_all(live, kinds, False))
        if judged_batches is None:
            judged_batches = only(live, runs["library"][0]["judged"])
        runs["judged"].append(evaluate_all(judged_batches, kinds, True))
        runs["backlog"].append(evaluate_all(backlog, kinds, True))
        print(f"  round {r + 1}: {rate(runs['library'][-1]):,.0f} points per CPU-s with the library, "
              f"{rate(runs['none'][-1]):,.0f} without checks, {rate(runs['judged'][-1]):,.0f} when every series is judged, "
              f"{rate(runs['backlog'][-1]):,.0f} in backlog batches", flush=True)
    return {"series": n_series, "runs": runs, "judged_series": runs["library"][0]["judged_series"]}


def rate(run: dict, part: str = "rest") -> float:
    return run[f"points_{part}"] / run[f"cpu_{part}"] if run[f"cpu_{part}"] else float("inf")


# =================================================================== part 2: latency through the real processes


def agent_role(args: argparse.Namespace) -> int:
    """The agent process: `agent.main run`, the synthetic poller also reporting CPUs that go bad on schedule."""
    from agent.pollers import synthetic

    original = synthetic.SyntheticPoller.collect
    cpus = [(("cpu", f"bench-{i:03d}"),) for i in range(args.anomalies)]
    polls = [0]

    def collect(self, ts_ms: int):  # type: ignore[no-untyped-def]
        poll = original(self, ts_ms)
        n, polls[0] = polls[0], polls[0] + 1
        bad = 0 if n < ANOMALY_FROM_POLL else (n - ANOMALY_FROM_POLL + 1) * ANOMALIES_PER_POLL
        poll.samples.extend(("cpu_usage_percent", labels, 99.0 if i < bad else 10.0) for i, labels in enumerate(cpus))
        return poll

    synthetic.SyntheticPoller.collect = collect  # type: ignore[method-assign]
    from agent.main import main as agent_main

    return agent_main(["run", "-c", args.config])


def latency(workdir: Path, args: argparse.Namespace, children: list[S.Child]) -> dict:
    certs = S.make_certs(workdir / "certs", [LATENCY_AGENT])
    database = workdir / "latency.db"
    overrides = workdir / "overrides.yaml"
    overrides.write_text(
        "overrides:\n"
        f"  - match: {{device: {LATENCY_DEVICE}}}\n"
        "    checks:\n"
        "      cpu_high: {for: 0}\n"
    )
    config = S.write_collector_config(workdir / "collector.yaml", certs, database, "30s")
    with open(config, "a") as f:
        f.write(f"checks: {{enabled: true, overrides: {overrides}}}\n")
    collector, port = S.start_collector(workdir, config)
    children.append(collector)
    agent_config = workdir / "agent.yaml"
    agent_config.write_text(
        f"agent: {{id: {LATENCY_AGENT}, customer: bench-customer, site: bench-site}}\n"
        "collector:\n"
        f'  address: "127.0.0.1:{port}"\n'
        "  tls:\n"
        f"    ca: {certs / 'ca.pem'}\n"
        f"    cert: {certs / 'agents' / (LATENCY_AGENT + '.pem')}\n"
        f"    key: {certs / 'agents' / (LATENCY_AGENT + '.key')}\n"
        f"state_dir: {workdir / 'agent-state'}\n"
        "pollers:\n"
        "  host: {enabled: false}\n"
        f"  synthetic: {{enabled: true, interval: 1s, series: {args.background}, device_id: {LATENCY_DEVICE}}}\n"
        f"batching: {{max_points: 5000, max_delay: {args.max_delay}}}\n"
    )
    agent = S.Child("agent", [sys.executable, str(Path(__file__).resolve()), "--role", "agent", "-c", str(agent_config),
                              "--anomalies", str(args.anomalies)], workdir / "agent.log")
    children.append(agent)
    print(f"  latency: collector pid {collector.pid}, agent pid {agent.pid}: {args.background:,} background series a second, "
          f"{args.anomalies} CPUs going to 99 %, {ANOMALIES_PER_POLL} a poll from poll {ANOMALY_FROM_POLL + 1}", flush=True)

    seen: dict[int, tuple[float, str, int, int]] = {}   # incident id → (first seen, instance, happened_ms, seen_ms)
    store = None
    deadline = time.monotonic() + 60 + args.anomalies / ANOMALIES_PER_POLL + ANOMALY_FROM_POLL
    while len(seen) < args.anomalies:
        if time.monotonic() > deadline:
            raise S.BenchError(f"only {len(seen)} of {args.anomalies} incidents opened in time:\n{collector.tail()}")
        for child in (agent, collector):
            if not child.alive():
                raise S.BenchError(f"{child.name} exited with {child.process.returncode}:\n{child.tail()}")
        if store is None and database.exists():
            store = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
        if store is not None:
            try:
                rows = store.execute(
                    "SELECT incident_id, instance, happened_ms, seen_ms FROM incidents WHERE check_id = 'cpu_high' AND incident_id > ?",
                    (max(seen, default=0),),
                ).fetchall()
            except sqlite3.OperationalError:  # the schema is not there yet
                rows = []
            now = time.time()
            for incident_id, instance, happened_ms, seen_ms in rows:
                seen[incident_id] = (now, instance, happened_ms, seen_ms)
        time.sleep(0.01)
    agent.stop()
    if store is not None:
        store.close()
    if collector.stop() != 0:
        raise S.BenchError(f"the collector did not stop cleanly:\n{collector.tail()}")
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    blocks = db.execute("SELECT min_ts_ms, max_ts_ms, received_ms FROM point_blocks WHERE agent_id = ?", (LATENCY_AGENT,)).fetchall()
    db.close()
    rows = []
    for first_seen, instance, happened_ms, seen_ms in seen.values():
        stored = min((r for lo, hi, r in blocks if lo <= happened_ms <= hi), default=None)
        if stored is None:
            raise S.BenchError(f"no stored block holds the sample of {instance} at {happened_ms}")
        rows.append({"instance": instance, "total": first_seen * 1000 - happened_ms, "stored": stored - happened_ms,
                     "engine": seen_ms - stored, "row": first_seen * 1000 - stored})
    instances = {row["instance"] for row in rows}
    if len(instances) != args.anomalies:
        raise S.BenchError(f"{len(rows)} incidents for {len(instances)} instances; expected one for each of {args.anomalies}")
    return {"rows": rows}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


# =================================================================== main


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="20 polls per series and 40 anomalies (under 90 s)")
    p.add_argument("--polls", type=int, help="poll rounds per series (default 60, quick 20)")
    p.add_argument("--rounds", type=int, default=3, help="throughput measurements of each kind; the median is reported")
    p.add_argument("--anomalies", type=int, help="incidents to open in the latency part (default 120, quick 40)")
    p.add_argument("--max-delay", type=float, default=0.25, help="the agent's batching.max_delay, seconds (default 0.25)")
    p.add_argument("--background", type=int, default=2000, help="synthetic background series a second on the agent (default 2000)")
    p.add_argument("--no-latency", action="store_true", help="skip part 2")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--role", choices=["main", "agent"], default="main", help=argparse.SUPPRESS)
    p.add_argument("-c", "--config", help=argparse.SUPPRESS)
    args = p.parse_args()
    args.polls = args.polls or (20 if args.quick else 60)
    args.anomalies = args.anomalies or (40 if args.quick else 120)
    return args


def main() -> int:
    args = parse_args()
    if args.role == "agent":
        return agent_role(args)
    S.sigterm_as_exit()
    code_under_test = S.code_version()
    started = time.monotonic()
    load_at_start = Path("/proc/loadavg").read_text().split()[:3]
    workdir = Path(tempfile.mkdtemp(prefix="vigil-bench-checks-"))
    children: list[S.Child] = []
    print(f"checks benchmark ({'quick' if args.quick else 'full'}): {args.polls} polls per series, "
          f"{args.anomalies} anomalies; work directory {workdir}", flush=True)
    try:
        part1 = throughput(args)
        part2 = None if args.no_latency else latency(workdir, args, children)
    except S.BenchError as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        S.cleanup(children, workdir, args.keep)
    S.print_provenance(code_under_test)
    print(f"load average (1, 5, 15 min) at the start {' '.join(load_at_start)}, at the end "
          f"{' '.join(Path('/proc/loadavg').read_text().split()[:3])}; whole run {time.monotonic() - started:.0f} s\n")
    runs = part1["runs"]
    median = {name: statistics.median(rate(run) for run in found) for name, found in runs.items()}
    first = statistics.median(rate(run, "first") for run in runs["library"])
    lib = runs["library"][0]
    rows = [
        [f"library ({len(library_ids())} checks), live batches: the rounds after the first", f"{lib['points_rest']:,}",
         f"{median['library']:,.0f}", ", ".join(f"{rate(run):,.0f}" for run in runs["library"])],
        ["  its first round (every series routed to its checks)", f"{lib['points_first']:,}", f"{first:,.0f}",
         ", ".join(f"{rate(run, 'first'):,.0f}" for run in runs["library"])],
        ["baseline: no checks (routing's floor)", f"{runs['none'][0]['points_rest']:,}", f"{median['none']:,.0f}",
         ", ".join(f"{rate(run):,.0f}" for run in runs["none"])],
        [f"library, only the {part1['judged_series']:,} series a check judges", f"{runs['judged'][0]['points_rest']:,}",
         f"{median['judged']:,.0f}", ", ".join(f"{rate(run):,.0f}" for run in runs["judged"])],
        ["library, backlog batches (ten rounds a batch)", f"{runs['backlog'][0]['points_rest']:,}", f"{median['backlog']:,.0f}",
         ", ".join(f"{rate(run):,.0f}" for run in runs["backlog"])],
    ]
    print(f"throughput: {part1['series']:,} series ({part1['judged_series']:,} judged by a check), {args.polls} rounds; "
          f"findings per run: {lib['findings']}")
    print(S.table(rows, ["run", "points", "points per CPU-s (median)", "each round"]))
    values: dict[str, object] = {
        "points_per_s": round(median["library"]),
        "incident_latency_p50_ms": None, "incident_latency_p99_ms": None,
        "baseline_points_per_s": round(median["none"]), "first_round_points_per_s": round(first),
        "judged_points_per_s": round(median["judged"]), "backlog_points_per_s": round(median["backlog"]),
        "series": part1["series"],
    }
    targets = [("≥ 200,000 points/s on one core", median["library"] >= POINTS_TARGET)]
    if part2:
        rows = []
        for key, name in (("total", "sample → incident row (the latency)"), ("stored", "  sample → its batch stored"),
                          ("engine", "  stored → the engine saw it"), ("row", "  stored → incident row seen")):
            found = [row[key] for row in part2["rows"]]
            rows.append([name, f"{percentile(found, 50):.0f}", f"{percentile(found, 99):.0f}", f"{max(found):.0f}"])
        print(f"\nlatency: {len(part2['rows'])} incidents, agent batching.max_delay {args.max_delay:g} s, "
              f"{args.background:,} background series a second; incidents read every 10 ms")
        print(S.table(rows, ["ms", "p50", "p99", "max"]))
        total = [row["total"] for row in part2["rows"]]
        values.update({"incident_latency_p50_ms": round(percentile(total, 50)), "incident_latency_p99_ms": round(percentile(total, 99)),
                       "anomalies": len(total)})
        targets.append(("p99 < 1 s", percentile(total, 99) < LATENCY_TARGET_MS))
    print("\ntargets: " + ", ".join(f"{name} {'met' if ok else 'NOT met'}" for name, ok in targets))
    print(S.result_line(values))
    return 0


def library_ids() -> list[str]:
    from checks import library

    return list(library())


if __name__ == "__main__":
    sys.exit(main())
