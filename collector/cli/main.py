"""`vigil`: the engineer's command line.

Reads the collector's store directly (SQLite file or PostgreSQL URL), so it
works on the collector host without the service running and never needs the
agents' credentials. Store resolution, first match wins: `--db URL`,
`$VIGIL_DB`, the `database:` of `--config` / `$VIGIL_COLLECTOR_CONFIG` /
/etc/vigil/collector.yaml, then the demo's store `./vigil-demo/vigil.db`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from agent.configfile import ConfigError, parse_duration
from collector import __version__
from collector.cli import checks_command, incidents_command, runs_command, sla_command
from collector.cli import inspect_command, reports_command
from collector.cli.errors import UsageError

DEFAULT_CONFIG = Path("/etc/vigil/collector.yaml")
DEMO_STORE = Path("vigil-demo") / "vigil.db"


def _duration_arg(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vigil",
        description="Vigil engineer's CLI: agents, devices, metrics, events, checks and incidents (ack, plan, resolve), the collector's status; certificates; the demo.",
        epilog="Run `vigil demo --duration 15` for a first look.",
    )
    parser.add_argument("--version", action="version", version=f"vigil {__version__}")
    parser.add_argument("--db", help="store URL: sqlite:///PATH or postgresql+psycopg://USER@HOST/DB")
    parser.add_argument("--config", type=Path, help="collector config whose database: to read")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    commands.add_parser("agents", help="agents: customer, site, connection, last seen, buffered and dropped data")

    devices = commands.add_parser("devices", help="devices every agent watches")
    devices.add_argument("--agent", help="only this agent's devices")

    metrics = commands.add_parser("metrics", help="a device's metrics: latest values, or the points of one metric")
    metrics.add_argument("device", metavar="DEVICE", help="device id, or AGENT/DEVICE when ids repeat across agents")
    metrics.add_argument("--metric", help="show the points of this metric (e.g. cpu_usage_percent)")
    metrics.add_argument("--since", type=_duration_arg, default=3600.0, help="how far back: 15m, 1h, 7d (default 1h)")
    metrics.add_argument("--hourly", action="store_true", help="read hourly rollups instead of raw points")
    metrics.add_argument("--limit", type=int, default=20, help="points shown per series with --metric (default 20)")

    events = commands.add_parser("events", help="what devices reported (SNMP traps…), newest first")
    events.add_argument("--agent", help="only this agent's events")
    events.add_argument("--device", help="only this device's events")
    events.add_argument("--since", type=_duration_arg, default=86400.0, help="how far back: 15m, 1h, 7d (default 1d)")
    events.add_argument("--severity", choices=("info", "warning", "minor", "major", "critical"), default="info",
                        help="this severity and worse (default info: all)")
    events.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")

    status = commands.add_parser(
        "status", help="the collector's health: agents connected, points stored, each metric sink's lag and dead letters"
    )
    status.add_argument("--dead-letters", type=int, default=5, metavar="N", help="show the newest N dead letters (default 5)")

    checks_command.add_parser(commands)
    incidents_command.add_parsers(commands)
    runs_command.add_parsers(commands)
    sla_command.add_parsers(commands)
    inspect_command.add_parser(commands)
    reports_command.add_parser(commands)

    certs = commands.add_parser("certs", help="development CA and certificates for mutual TLS")
    certs_commands = certs.add_subparsers(dest="certs_command", metavar="ACTION", required=True)
    init = certs_commands.add_parser("init", help="create a CA, a collector certificate and agent certificates")
    init.add_argument("--dir", type=Path, required=True, help="where to write ca.pem, collector.pem, agents/ID.pem …")
    init.add_argument("--collector-name", action="append", default=[], metavar="NAME",
                      help="DNS name or IP the agents dial (repeatable; default localhost and 127.0.0.1)")
    init.add_argument("--agent", action="append", default=[], metavar="ID", help="issue a certificate for this agent id (repeatable)")
    init.add_argument("--force", action="store_true", help="replace an existing CA")
    agent_cert = certs_commands.add_parser("agent", help="issue a certificate for one more agent from an existing CA")
    agent_cert.add_argument("--dir", type=Path, required=True)
    agent_cert.add_argument("agent_id", metavar="ID")

    demo = commands.add_parser("demo", help="run a collector and an agent on this machine and watch metrics arrive")
    demo.add_argument("--duration", type=_duration_arg, default=None, help="stop by itself after this long (e.g. 15 or 2m)")
    demo.add_argument("--dir", type=Path, default=Path("vigil-demo"), help="working folder (default ./vigil-demo)")
    demo.add_argument("--interval", type=_duration_arg, default=2.0, help="host poll interval (default 2s)")
    return parser


def store_url(args: argparse.Namespace) -> str:
    if args.db:
        return args.db
    if os.environ.get("VIGIL_DB"):
        return os.environ["VIGIL_DB"]
    config = args.config or (Path(os.environ["VIGIL_COLLECTOR_CONFIG"]) if os.environ.get("VIGIL_COLLECTOR_CONFIG") else None)
    if config is None and DEFAULT_CONFIG.exists():
        config = DEFAULT_CONFIG
    if config is not None:
        from collector import config as collector_config

        return collector_config.load(config).database
    if DEMO_STORE.exists():
        from collector.store.database import sqlite_url

        return sqlite_url(DEMO_STORE)
    raise UsageError("no store given: pass --db URL or --config collector.yaml (or set VIGIL_DB)")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        if args.command == "certs":
            from collector.cli import certs_command

            return certs_command.run(args)
        if args.command == "demo":
            from collector.cli import demo

            return demo.run(args)
        if args.command == "checks":
            return checks_command.run(args, store_url)
        if args.command in runs_command.COMMANDS:
            return runs_command.run(args, None if args.command == "playbooks" else store_url(args))
        if args.command in inspect_command.COMMANDS:
            return inspect_command.run(args, store_url(args))
        if args.command in reports_command.COMMANDS:
            return reports_command.run(args, store_url(args))
        if args.command in incidents_command.COMMANDS:
            return incidents_command.run(args, store_url(args))
        if args.command in sla_command.COMMANDS:
            return sla_command.run(args, store_url(args))
        if args.command == "status":
            from collector.cli import status

            return status.run(args, store_url(args))
        from collector.cli import inspect

        return inspect.run(args, store_url(args))
    except (UsageError, ConfigError) as exc:
        print(f"vigil: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
