"""`vigil inspect --customer X [--period 2026-11] [--lang zh|en] [--send] [-o DIR]`: an inspection and its report, now.

The same run as a scheduled one (collector/inspections/job.py): the
inspection and its reports are stored (see `vigil reports`), the files
written to `-o DIR` (or the config's `inspections.output_dir`), and with
`--send` the report is mailed to the customer's contacts through the
outbox and, when the config has `smtp:`, delivered right away.
"""

from __future__ import annotations

import argparse
import os
import socket
import time
from pathlib import Path

from collector.cli.errors import UsageError

COMMANDS = ("inspect",)


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    inspect = commands.add_parser("inspect", help="inspect a customer's devices over a period and make the report (PDF, HTML)")
    inspect.add_argument("--customer", required=True, help="the customer name the agents announce")
    inspect.add_argument("--period", help="2026-11, 2026-W47, 2026-11-03, 2026-11-01..2026-11-15 or last-7d "
                                          "(default: the last complete month)")
    inspect.add_argument("--lang", choices=("zh", "en"), action="append",
                         help="report language, repeatable (default: the customer's, else zh)")
    inspect.add_argument("--tz", help="time zone of the period and the report (default: the customer's, else Asia/Shanghai)")
    inspect.add_argument("--send", action="store_true", help="mail the report to the customer's contacts")
    inspect.add_argument("-o", "--output", type=Path, help="write the PDF and HTML into this folder")


def config_path(args: argparse.Namespace) -> Path | None:
    """The collector config this command reads (SLA, contacts, SMTP, overrides), as `vigil` finds it."""
    from collector.cli.main import DEFAULT_CONFIG

    if args.config:
        return Path(args.config)
    if os.environ.get("VIGIL_COLLECTOR_CONFIG"):
        return Path(os.environ["VIGIL_COLLECTOR_CONFIG"])
    return DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None


def run(args: argparse.Namespace, url: str) -> int:
    from collector import config as collector_config
    from collector.cli import store
    from collector.inspections import job, period

    path = config_path(args)
    config = collector_config.load(path) if path is not None else None
    environment = job.Environment.from_config(config) if config is not None else job.Environment()
    if args.output is not None:
        environment.output_dir = args.output.resolve()
    customer_config = environment.customers.get(args.customer)
    tz = args.tz or environment.timezone(args.customer)
    now = int(time.time() * 1000)
    try:
        chosen = period.parse(args.period, tz, now) if args.period else period.previous("month", now, tz)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    languages = tuple(dict.fromkeys(args.lang)) if args.lang else (tuple(customer_config.languages) if customer_config else ("zh",))
    if args.send and not environment.recipients(args.customer):
        raise UsageError(f"--send: customer {args.customer!r} has no contacts: set customers.{args.customer}.contacts "
                         "(or inspections.customers[].recipients) in the collector config")
    if args.send and (config is None or config.smtp is None):
        raise UsageError("--send needs the collector config's smtp: section (pass --config collector.yaml)")
    with store.opened(url) as engine:
        from collector.inspections.data import devices_in_scope

        if not devices_in_scope(engine, args.customer):
            raise UsageError(f"customer {args.customer!r} has no devices in this store (see `vigil agents`)")
        request = job.Request(args.customer, chosen, languages, args.send)
        owner = f"cli:{socket.gethostname()}:{os.getpid()}"
        print(f"Inspecting {args.customer}, {chosen.label} ({tz}) …", flush=True)
        outcome = job.run(engine, request, environment, owner, now)
        if outcome.status != "done":
            raise UsageError(f"the inspection failed: {outcome.error}")
        inspection = outcome.inspection
        assert inspection is not None
        findings = sum(1 for d in inspection.devices for f in d.findings if f.severity != "info")
        print(f"Report {outcome.number}: {len(inspection.devices)} devices, health score {inspection.score}, {findings} findings, "
              f"{len(inspection.incidents)} incidents.")
        for lang, report_id in outcome.reports.items():
            print(f"  {lang}: report {report_id}  (vigil reports get {report_id} --format pdf -o FILE)")
        for file in outcome.files:
            print(f"  wrote {file}")
        if args.send:
            _deliver(engine, config, outcome)
    return 0


def _deliver(engine, config, outcome) -> None:  # type: ignore[no-untyped-def]
    from collector.mail import outbox
    from collector.mail.deliver import Deliverer

    if not outcome.mail_queued:
        print(f"  mail {outcome.mail_key} was queued before: not sent again")
    else:
        Deliverer(engine, config.smtp).run_once()
    for row in outbox.deliveries(engine, outcome.mail_key):
        detail = f" ({row.last_error})" if row.last_error else ""
        print(f"  mail to {row.recipient}: {row.status}{detail}")
