"""`vigil demo`: a collector and an agent on this machine, with mutual TLS, on loopback.

Both run as real separate processes, exactly as on a site and at the
provider; the demo only writes their configs and certificates into its
folder, starts them, and reads the store to show progress. Their logs are in
`<dir>/logs/`, so a newcomer can see what each side said. It ends the way a
month ends for a customer: an inspection report of the demo site (PDF and
HTML in `<dir>/reports/`), mailed through a local SMTP sink on 127.0.0.1
that keeps what it receives in `<dir>/mail/`.
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
    if points:
        print()
        print(_inspection_report(directory))
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


DEMO_CUSTOMER = "演示客户 Demo Customer"
DEMO_CONTACT = "客户联系人 <it@demo-customer.example>"


def _inspection_report(directory: Path) -> str:
    """Inspect the demo site over the last hour, write the report, mail it to a local SMTP sink; what happened, as text."""
    from collector.config import CollectorConfig
    from collector.inspections import job, period
    from collector.mail import outbox
    from collector.mail.deliver import Deliverer

    url = sqlite_url(directory / "vigil.db")
    reports = directory / "reports"
    config = CollectorConfig.model_validate({
        "database": url,
        "customers": {DEMO_CUSTOMER: {"contacts": [DEMO_CONTACT]}},
        "inspections": {"provider": "Vigil 演示 Demo", "output_dir": str(reports),
                        "customers": [{"customer": DEMO_CUSTOMER, "timezone": "Asia/Shanghai"}]},
    })
    sink = _SmtpSink(directory / "mail")
    engine = connect(url)
    lines = []
    try:
        now = int(time.time() * 1000)
        request = job.Request(DEMO_CUSTOMER, period.parse("last-1h", "Asia/Shanghai", now), ("zh",), send=sink.port is not None)
        outcome = job.run(engine, request, job.Environment.from_config(config), "vigil-demo", now)
        if outcome.status != "done" or outcome.inspection is None:
            return f"No inspection report: {outcome.error or 'the run was skipped'}"
        inspection = outcome.inspection
        findings = sum(1 for d in inspection.devices for f in d.findings if f.severity != "info")
        lines.append(f"Inspection report {outcome.number} of the demo site (the last hour): {len(inspection.devices)} device(s), "
                     f"health score {inspection.score:g}, {findings} finding(s).")
        lines += [f"  {path}" for path in outcome.files]
        if sink.port is None:
            lines.append(f"  (not mailed: {sink.missing}; `pip install aiosmtpd` to see the mail too)")
        else:
            Deliverer(engine, _smtp(sink.port)).run_once()
            for row in outbox.deliveries(engine, outcome.mail_key):
                lines.append(f"  mailed to {row.recipient}: {row.status}, through a local SMTP sink on 127.0.0.1:{sink.port}")
            lines += [f"  {path}" for path in sink.saved]
        lines.append(f"  see it again: vigil --db {url} reports")
    finally:
        engine.dispose()
        sink.stop()
    return "\n".join(lines)


def _smtp(port: int):  # type: ignore[no-untyped-def]
    from collector.config import SmtpConfig

    return SmtpConfig(host="127.0.0.1", port=port, security="none", sender="Vigil 演示 <vigil@demo.invalid>", timeout=10.0)


class _SmtpSink:
    """aiosmtpd on 127.0.0.1 (a free port) keeping each message it receives as an .eml file; port None without aiosmtpd."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.saved: list[Path] = []
        self.port: int | None = None
        self.missing = ""
        try:
            from aiosmtpd.controller import Controller
        except ImportError as exc:
            self.missing = f"aiosmtpd is not installed ({exc.name})"
            self._controller = None
            return
        folder.mkdir(parents=True, exist_ok=True)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self._controller = Controller(self, hostname="127.0.0.1", port=port)
        self._controller.start()
        self.port = port

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def] # noqa: N802
        path = self.folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{len(self.saved) + 1}.eml"
        path.write_bytes(bytes(envelope.original_content or envelope.content))
        self.saved.append(path)
        return "250 2.0.0 Message accepted for delivery"

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
