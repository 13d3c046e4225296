"""`vigil demo`: a collector and an agent on this machine, with mutual TLS, on loopback.

Both run as real separate processes, exactly as on a site and at the
provider; the demo only writes their configs and certificates into its
folder, starts them, and reads the store to show progress. Their logs are in
`<dir>/logs/`, so a newcomer can see what each side said.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from collector import certs
from collector.cli import table
from collector.cli.errors import UsageError
from collector.store import queries
from collector.store.database import connect, sqlite_url

AGENT_ID = "demo-agent"
READY_TIMEOUT_S = 30.0


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _prepare(directory: Path, interval_s: float) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("vigil.db*"):
        stale.unlink()  # each demo starts from an empty store
    pki = directory / "pki"
    if not (pki / "ca.pem").exists():
        certs.create_ca(pki)
        certs.issue_collector(pki, ["localhost", "127.0.0.1"])
    if not (pki / "agents" / f"{AGENT_ID}.pem").exists():
        certs.issue_agent(pki, AGENT_ID)
    collector_yaml = _write(
        directory / "collector.yaml",
        "# Written by `vigil demo`. See deploy/collector.example.yaml for every option.\n"
        "collector_id: demo-collector\n"
        "listen: 127.0.0.1:0            # any free port; the demo reads it from the ready file\n"
        "tls: {cert: pki/collector.pem, key: pki/collector.key, client_ca: pki/ca.pem}\n"
        "database: sqlite:///vigil.db\n"
        "rollup_interval: 5s\n",
    )
    return collector_yaml, pki


def _agent_yaml(directory: Path, port: int, interval_s: float) -> Path:
    return _write(
        directory / "agent.yaml",
        "# Written by `vigil demo`. See deploy/agent.example.yaml for every option.\n"
        "agent: {id: demo-agent, customer: 演示客户 Demo Customer, site: 本机 This machine}\n"
        "collector:\n"
        f"  address: localhost:{port}\n"
        "  tls: {ca: pki/ca.pem, cert: pki/agents/demo-agent.pem, key: pki/agents/demo-agent.key}\n"
        "state_dir: agent-state\n"
        f"pollers: {{host: {{interval: {interval_s}s}}}}\n"
        f"batching: {{max_delay: {min(interval_s, 2.0)}s}}\n",
    )


def _wait_ready(ready: Path, process: subprocess.Popen[bytes], log: Path) -> int:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise UsageError(f"the collector exited with code {process.returncode}; its log:\n{log.read_text()[-2000:]}")
        if ready.exists():
            return int(json.loads(ready.read_text())["port"])
        time.sleep(0.1)
    raise UsageError(f"the collector did not start within {READY_TIMEOUT_S:.0f}s; see {log}")


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run(args: argparse.Namespace) -> int:
    directory: Path = args.dir.resolve()
    collector_yaml, _ = _prepare(directory, args.interval)
    logs = directory / "logs"
    logs.mkdir(exist_ok=True)
    ready = directory / "collector.ready"
    ready.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    collector = agent = None
    print(f"Vigil demo in {directory}  (logs: {logs})")
    try:
        collector_log = logs / "collector.log"
        with open(collector_log, "wb") as out:
            collector = subprocess.Popen(
                [sys.executable, "-m", "collector.main", "-c", str(collector_yaml), "--ready-file", str(ready)],
                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=directory,
            )
        port = _wait_ready(ready, collector, collector_log)
        print(f"  collector listening on 127.0.0.1:{port} with mutual TLS; store {directory / 'vigil.db'}")
        agent_yaml = _agent_yaml(directory, port, args.interval)
        with open(logs / "agent.log", "wb") as out:
            agent = subprocess.Popen(
                [sys.executable, "-m", "agent.main", "run", "-c", str(agent_yaml)],
                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=directory,
            )
        print(f"  agent {AGENT_ID} polling this host every {args.interval:g}s")
        print("  (Ctrl-C to stop)" if args.duration is None else f"  running for {args.duration:g}s")
        _watch(directory, args.duration, collector, agent)
    finally:
        _stop(agent)
        _stop(collector)
    report, points = _summary(directory)
    print()
    print(report)
    return 0 if points else 1


def _watch(directory: Path, duration: float | None, collector: subprocess.Popen[bytes], agent: subprocess.Popen[bytes]) -> None:
    engine = connect(sqlite_url(directory / "vigil.db"))
    started = time.monotonic()
    try:
        while duration is None or time.monotonic() - started < duration:
            time.sleep(min(2.0, max(0.1, (duration or 2.0) - (time.monotonic() - started))))
            for name, process in (("collector", collector), ("agent", agent)):
                if process.poll() is not None:
                    raise UsageError(f"the {name} exited early (code {process.returncode}); see {directory / 'logs' / (name + '.log')}")
            points, batches = queries.totals(engine)
            status = queries.agents(engine)
            state = "connected" if status and status[0].connected else "connecting…"
            print(f"  {time.monotonic() - started:5.1f}s  agent {state:<11} {table.count(points):>8} points stored in {batches} batches", flush=True)
    except KeyboardInterrupt:
        print("  stopping…")
    finally:
        engine.dispose()


def _summary(directory: Path) -> tuple[str, int]:
    """The closing report, and how many points arrived."""
    from collector.cli import inspect

    url = sqlite_url(directory / "vigil.db")
    engine = connect(url)
    try:
        points, batches = queries.totals(engine)
        devices = queries.devices(engine)
        host = next((d.device_id for d in devices if d.kind == "host"), socket.gethostname())
        lines = [
            f"Summary: {table.count(points)} points in {batches} batches stored and acknowledged, "
            f"{len(devices)} device(s).",
            "",
            inspect.agents_table(engine, argparse.Namespace()),
            "",
        ]
        if points:
            view = argparse.Namespace(device=host, metric=None, since=3600.0, hourly=False, limit=20)
            lines += [inspect.metrics_table(engine, view), ""]
    finally:
        engine.dispose()
    lines += [
        "Look again later (the store stays in the demo folder):",
        f"  vigil --db {url} agents",
        f"  vigil --db {url} devices",
        f"  vigil --db {url} metrics {host} --metric cpu_usage_percent",
    ]
    if points == 0:
        lines.insert(0, f"No points arrived: see {directory / 'logs'} for why.")
    return "\n".join(lines), points
