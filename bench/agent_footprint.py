"""Agent footprint: the real agent watching this host, beside Debian's prometheus-node-exporter.

    .venv/bin/python bench/agent_footprint.py            # full: 60 s, the first 10 s are warm-up
    .venv/bin/python bench/agent_footprint.py --quick    # the same figures, 25 s with 5 s warm-up

In one run, side by side on the same host and for the same seconds:

* `python -m agent.main run -c agent.yaml` — the host poller every 1 s, with
  the agent's default batching (a batch leaves every `max_delay` = 5 s;
  `--max-delay 1` sends one per collection), streaming over mutual TLS (the
  agent's default gzip) to a real collector process (`python -m
  collector.main`) on loopback.
* `prometheus-node-exporter --web.listen-address=127.0.0.1:PORT` with
  Debian's default collectors, scraped over HTTP every 1 s by this script.
  If it is missing and we are root, the script installs it with
  `apt-get install -y --no-install-recommends prometheus-node-exporter`.

Measured over the steady window (after the warm-up):

* RSS: VmRSS from /proc/PID/status once a second; the RESULT carries the
  **maximum** of the window (the median is printed beside it).
* CPU per collection: utime+stime from /proc/PID/stat at the window's start
  and end, divided by the collections in the window. For the agent these are
  counted in the store: the `vigil_poll_up` points of its host device whose
  timestamps fall inside the window (so a collection that was skipped or never
  delivered does not count). For node_exporter, the scrapes this script made.
  Everything a process does is in its figure: the agent's includes batching,
  protobuf, gzip, TLS and gRPC; node_exporter's includes HTTP and text
  formatting.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _support as S  # noqa: E402  (puts the repo root on sys.path)

NODE_EXPORTER = Path("/usr/bin/prometheus-node-exporter")
AGENT_ID = "footprint-agent"
HOST_DEVICE = "bench-host"
RSS_TARGET_MIB = 40.0
CPU_RATIO_TARGET = 0.5


def node_exporter_version() -> str:
    done = subprocess.run([str(NODE_EXPORTER), "--version"], capture_output=True, text=True, timeout=10)
    text = (done.stdout or done.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def scrape(url: str) -> int:
    """GET /metrics; return how many series (sample lines) it held."""
    with urllib.request.urlopen(url, timeout=5) as response:
        body = response.read().decode()
    return sum(1 for line in body.splitlines() if line and not line.startswith("#"))


def write_agent_config(path: Path, port: int, certs: Path, interval: float, max_delay: float | None) -> Path:
    path.write_text(
        f"agent: {{id: {AGENT_ID}, customer: bench-customer, site: bench-site}}\n"
        "collector:\n"
        f'  address: "localhost:{port}"\n'
        "  tls:\n"
        f"    ca: {certs / 'ca.pem'}\n"
        f"    cert: {certs / 'agents' / (AGENT_ID + '.pem')}\n"
        f"    key: {certs / 'agents' / (AGENT_ID + '.key')}\n"
        f"state_dir: {path.parent / 'agent-state'}\n"
        "pollers:\n"
        f"  host: {{interval: {interval:g}s, device_id: {HOST_DEVICE}}}\n"
        + (f"batching: {{max_delay: {max_delay:g}s}}\n" if max_delay is not None else "")
    )
    return path


def collections_in_store(database: Path, from_ms: int, to_ms: int) -> dict[str, object]:
    """Count the agent's collections (vigil_poll_up points) and series per collection in [from_ms, to_ms)."""
    from collector.store.blocks import Block

    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        names = dict(db.execute("SELECT series_id, metric FROM series WHERE agent_id = ? AND device_id = ?", (AGENT_ID, HOST_DEVICE)))
        rows = db.execute(
            "SELECT series_ids, counts, timestamps, point_values FROM point_blocks WHERE agent_id = ? ORDER BY block_id", (AGENT_ID,)
        ).fetchall()
    up: list[float] = []
    durations: list[float] = []
    per_poll: Counter[int] = Counter()
    for row in rows:
        block = Block.unpack(SimpleNamespace(series_ids=row[0], counts=row[1], timestamps=row[2], point_values=row[3]))
        for series_id, start, end in block.segments():
            metric = names.get(series_id)
            if metric is None:
                continue
            for i in range(start, end):
                ts = block.timestamps[i]
                if not from_ms <= ts < to_ms:
                    continue
                per_poll[ts] += 1
                if metric == "vigil_poll_up":
                    up.append(block.values[i])
                elif metric == "vigil_poll_duration_seconds":
                    durations.append(block.values[i])
    return {
        "collections": len(up),
        "failed": sum(1 for v in up if v != 1.0),
        "series_per_collection": statistics.median(per_poll.values()) if per_poll else 0,
        "poll_duration_ms": 1000 * statistics.median(durations) if durations else float("nan"),
        "distinct_series": len(names),
    }


def thread_split(pid: int, before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]) -> dict[str, float]:
    """CPU seconds per group of the agent's threads between two readings."""
    groups = {"main thread (event loop)": 0.0, "other Python threads (poll worker)": 0.0, "gRPC core threads": 0.0}
    for tid, (name, seconds) in after.items():
        spent = seconds - before.get(tid, (name, 0.0))[1]
        if tid == pid:
            groups["main thread (event loop)"] += spent
        elif name.startswith("python"):
            groups["other Python threads (poll worker)"] += spent
        else:
            groups["gRPC core threads"] += spent
    return groups


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="25 s with 5 s warm-up instead of 60 s with 10 s")
    p.add_argument("--duration", type=int, help="seconds in all, warm-up included (default 60, quick 25)")
    p.add_argument("--warmup", type=int, help="seconds before the steady window (default 10, quick 5)")
    p.add_argument("--interval", type=float, default=1.0, help="host poller interval and scrape interval, s (default 1)")
    p.add_argument("--max-delay", type=float, default=None,
                   help="agent batching max_delay, s (default: the agent's own default, 5 s)")
    p.add_argument("--keep", action="store_true", help="keep the work directory (database, logs)")
    args = p.parse_args()
    if args.duration is None:
        args.duration = 25 if args.quick else 60
    if args.warmup is None:
        args.warmup = 5 if args.quick else 10
    if args.warmup >= args.duration:
        p.error("--warmup must be shorter than --duration")
    return args


def main() -> int:
    args = parse_args()
    S.sigterm_as_exit()
    started = time.monotonic()
    code_under_test = S.code_version()
    mode = "quick" if args.quick else "full"
    workdir = Path(tempfile.mkdtemp(prefix="vigil-bench-footprint-"))
    print(f"agent footprint benchmark ({mode}): {args.duration} s, first {args.warmup} s warm-up, "
          f"poll/scrape every {args.interval:g} s")
    print(f"  work directory {workdir}")
    children: list[S.Child] = []
    try:
        S.ensure_debian_package("prometheus-node-exporter", NODE_EXPORTER)
        certs = S.make_certs(workdir / "certs", [AGENT_ID])
        database = workdir / "vigil.db"
        collector_config = S.write_collector_config(workdir / "collector.yaml", certs, database)
        collector, port = S.start_collector(workdir, collector_config)
        children.append(collector)
        print(f"  collector pid {collector.pid} on 127.0.0.1:{port} (mutual TLS)", flush=True)

        ne_port = S.free_port()
        node_exporter = S.Child(
            "node_exporter", [str(NODE_EXPORTER), f"--web.listen-address=127.0.0.1:{ne_port}"], workdir / "node_exporter.log"
        )
        children.append(node_exporter)
        url = f"http://127.0.0.1:{ne_port}/metrics"
        deadline = time.monotonic() + 20
        while True:
            try:
                scrape(url)
                break
            except OSError:
                if not node_exporter.alive() or time.monotonic() > deadline:
                    raise S.BenchError(f"node_exporter did not answer on {url}:\n{node_exporter.tail()}") from None
                time.sleep(0.1)
        print(f"  node_exporter pid {node_exporter.pid} on 127.0.0.1:{ne_port} ({node_exporter_version()})", flush=True)

        agent_config = write_agent_config(workdir / "agent.yaml", port, certs, args.interval, args.max_delay)
        agent = S.Child("agent", [sys.executable, "-m", "agent.main", "run", "-c", str(agent_config)], workdir / "agent.log")
        children.append(agent)
        print(f"  agent pid {agent.pid}: python -m agent.main run -c {agent_config.name}", flush=True)

        t0 = time.monotonic()
        agent_rss: list[int] = []
        agent_mem: list[dict[str, int]] = []
        threads: list[dict[int, tuple[str, float]]] = []
        ne_rss: list[int] = []
        scrapes = 0
        series = 0
        window_wall: list[float] = []
        cpu: dict[str, float] = {}
        for tick in range(args.duration + 1):
            time.sleep(max(0.0, t0 + tick * args.interval - time.monotonic()))
            for child in (agent, node_exporter):
                if not child.alive():
                    raise S.BenchError(f"{child.name} exited with {child.process.returncode}:\n{child.tail()}")
            if tick == args.warmup:
                window_wall.append(time.time())
                cpu["agent0"], cpu["ne0"] = S.cpu_seconds(agent.pid), S.cpu_seconds(node_exporter.pid)
                threads.append(S.thread_cpu_seconds(agent.pid))
            if tick == args.duration:
                cpu["agent1"], cpu["ne1"] = S.cpu_seconds(agent.pid), S.cpu_seconds(node_exporter.pid)
                threads.append(S.thread_cpu_seconds(agent.pid))
                window_wall.append(time.time())
                break
            series = scrape(url)
            if tick >= args.warmup:
                scrapes += 1
                agent_mem.append(S.memory_kib(agent.pid))
                agent_rss.append(agent_mem[-1]["VmRSS"])
                ne_rss.append(S.rss_kib(node_exporter.pid))
            if tick % 5 == 0:
                print(f"  {tick:3d}/{args.duration} s: agent RSS {S.rss_kib(agent.pid) / 1024:5.1f} MiB, "
                      f"CPU {S.cpu_seconds(agent.pid):5.2f} s; node_exporter RSS {S.rss_kib(node_exporter.pid) / 1024:5.1f} MiB, "
                      f"CPU {S.cpu_seconds(node_exporter.pid):5.2f} s", flush=True)

        print("  stopping the agent (it flushes its last batch), then the collector", flush=True)
        code = agent.stop(grace_s=15)
        if code != 0:
            raise S.BenchError(f"the agent exited with {code}:\n{agent.tail()}")
        node_exporter.stop()
        code = collector.stop(grace_s=60)
        if code != 0:
            raise S.BenchError(f"the collector exited with {code}:\n{collector.tail()}")
        store = collections_in_store(database, int(window_wall[0] * 1000), int(window_wall[1] * 1000))
    except S.BenchError as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        S.cleanup(children, workdir, args.keep)

    window_s = window_wall[1] - window_wall[0]
    expected = window_s / args.interval
    collections = int(store["collections"])  # type: ignore[call-overload]
    if collections < 0.8 * expected:
        print(f"\nFAILED: only {collections} collections stored in a {window_s:.0f} s window "
              f"(expected about {expected:.0f}); see the agent's log", file=sys.stderr)
        return 1
    agent_cpu_ms = 1000 * (cpu["agent1"] - cpu["agent0"]) / collections
    ne_cpu_ms = 1000 * (cpu["ne1"] - cpu["ne0"]) / scrapes
    ratio = agent_cpu_ms / ne_cpu_ms
    a_max, a_med = max(agent_rss) / 1024, statistics.median(agent_rss) / 1024
    n_max, n_med = max(ne_rss) / 1024, statistics.median(ne_rss) / 1024

    S.print_provenance(code_under_test)
    print(f"steady window: {window_s:.1f} s after {args.warmup} s warm-up; agent collections in the store: {collections} "
          f"({store['failed']} failed; {expected:.0f} expected from time/interval); node_exporter scrapes: {scrapes}\n")
    print(S.table(
        [
            ["vigil agent (host poller, 1 s)", f"{a_max:.1f}", f"{a_med:.1f}", f"{agent_cpu_ms:.2f}",
             f"{store['series_per_collection']:.0f}", f"{1000 * (cpu['agent1'] - cpu['agent0']) / window_s:.1f}"],
            ["prometheus-node-exporter", f"{n_max:.1f}", f"{n_med:.1f}", f"{ne_cpu_ms:.2f}",
             f"{series}", f"{1000 * (cpu['ne1'] - cpu['ne0']) / window_s:.1f}"],
        ],
        ["process", "RSS max MiB", "RSS median MiB", "CPU ms / collection", "series / collection", "CPU ms / s"],
    ))
    print(f"\nagent: median poll duration (wall, in its worker thread) {store['poll_duration_ms']:.1f} ms; "
          f"{store['distinct_series']} distinct series stored for the host")
    anon = statistics.median(m["RssAnon"] for m in agent_mem) / 1024
    file_backed = statistics.median(m["RssFile"] for m in agent_mem) / 1024
    print(f"agent RSS split (median): {anon:.1f} MiB anonymous (Python objects, gRPC buffers), "
          f"{file_backed:.1f} MiB file-backed (shared-library pages: libpython, cygrpc, libcrypto)")
    split = thread_split(agent.pid, threads[0], threads[1])
    print("agent CPU by thread over the window, ms per collection (clock-tick resolution): " + ", ".join(
        f"{name} {1000 * seconds / collections:.2f}" for name, seconds in split.items()))
    tick_ms = 1000 / S.CLOCK_TICKS
    print(f"CPU resolution: /proc counts whole clock ticks ({tick_ms:.0f} ms), so each CPU figure is ± "
          f"{tick_ms / collections:.2f} ms per collection over this window")
    rss_ok = a_max <= RSS_TARGET_MIB
    cpu_ok = ratio <= CPU_RATIO_TARGET
    print(f"target agent RSS ≤ {RSS_TARGET_MIB:.0f} MiB: {'met' if rss_ok else 'MISSED'} ({a_max:.1f} MiB, max of the window)")
    print(f"target agent CPU per collection ≤ {CPU_RATIO_TARGET}× node_exporter's per scrape: "
          f"{'met' if cpu_ok else 'MISSED'} ({ratio:.2f}×: {agent_cpu_ms:.2f} ms vs {ne_cpu_ms:.2f} ms)")
    print(f"total time {time.monotonic() - started:.0f} s")
    print(S.result_line({
        "agent_rss_mib": round(a_max, 1),
        "agent_cpu_ms_per_collection": round(agent_cpu_ms, 2),
        "node_exporter_cpu_ms_per_collection": round(ne_cpu_ms, 2),
        "cpu_ratio": round(ratio, 3),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
