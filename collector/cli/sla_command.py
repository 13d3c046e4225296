"""`vigil sla`: SLA compliance of a period; `vigil notices`: who was told what; `vigil maintenance` (maintenance_command).

`vigil sla --customer X --period 2026-11` reads the customer's policy from
the collector config (`--config`, $VIGIL_COLLECTOR_CONFIG or
/etc/vigil/collector.yaml; the contract's defaults without one) and the
incidents and timelines from the store.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
import time
from pathlib import Path

from collector.cli import maintenance_command, table
from collector.cli.errors import UsageError

COMMANDS = ("sla", "notices", "maintenance")


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sla = commands.add_parser("sla", help="SLA compliance: %% acknowledged and %% planned within target, mean and p90 times")
    sla.add_argument("--customer", help="one customer, with each incident's clocks (default: a line per customer)")
    sla.add_argument("--period", help="2026-11, 2026-Q4, 2026 or 2026-11-01..2026-11-15 (default: this month)")
    sla.add_argument("--tz", help="zone of the period's bounds (default: the customer's calendar zone, else UTC)")
    notices = commands.add_parser("notices", help="the notification log: each notice, whom it went to, delivery per recipient")
    notices.add_argument("--incident", type=int, metavar="ID", help="only this incident's")
    notices.add_argument("--limit", type=int, default=30)
    by = {"default": os.environ.get("VIGIL_USER") or getpass.getuser(), "help": "who you are (default $VIGIL_USER or your login)"}
    maintenance_command.add_parser(commands, by)


def run(args: argparse.Namespace, url: str) -> int:
    if args.command == "maintenance":
        return maintenance_command.run(args, url)
    from collector.cli import store

    with store.opened(url) as engine:
        print(_sla(engine, args) if args.command == "sla" else _notices(engine, args))
    return 0


def _config(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from collector import config as collector_config
    from collector.cli.main import DEFAULT_CONFIG

    path = args.config or (Path(os.environ["VIGIL_COLLECTOR_CONFIG"]) if os.environ.get("VIGIL_COLLECTOR_CONFIG") else None)
    if path is None and DEFAULT_CONFIG.exists():
        path = DEFAULT_CONFIG
    return collector_config.load(path) if path else collector_config.CollectorConfig(), path


def _sla(engine, args: argparse.Namespace) -> str:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from collector.sla import report
    from collector.store import schema

    config, path = _config(args)
    now = int(time.time() * 1000)
    period = args.period or dt.datetime.now(dt.UTC).strftime("%Y-%m")
    if args.customer:
        customers = [args.customer]
    else:
        with engine.connect() as connection:
            customers = sorted(connection.execute(select(schema.incidents.c.customer).distinct()).scalars())
    try:
        results = [report.compliance(engine, name, config.customer(name).sla, period, now, args.tz) for name in customers]
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    source = f"policies from {path}" if path else "no collector config: the contract's defaults"
    if not args.customer:
        results = [r for r in results if r.incidents or r.not_covered]
        if not results:
            return f"No incidents in {period} ({source})."
        body = [[r.customer, str(len(r.incidents)), *_summary_cells(r.response), *_summary_cells(r.plan)] for r in results]
        return f"SLA compliance, {period} ({source})\n\n" + table.render(
            ["CUSTOMER", "INCIDENTS", "RESP. WITHIN", "RESP. MEAN", "RESP. P90", "PLAN WITHIN", "PLAN MEAN", "PLAN P90"],
            body, right=(1, 2, 3, 4, 5, 6, 7))
    return _customer_report(results[0], config.customer(args.customer).sla, source)


def _summary_cells(summary) -> list[str]:  # type: ignore[no-untyped-def]
    return [_percent(summary), _time(summary.mean_ms), _time(summary.p90_ms)]


def _percent(summary) -> str:  # type: ignore[no-untyped-def]
    return "-" if summary.percent is None else f"{summary.percent:.1f} %"


def _time(ms: float | None) -> str:
    from collector.sla.clocks import hours

    return "-" if ms is None else hours(int(ms))


def _customer_report(result, policy, source: str) -> str:  # type: ignore[no-untyped-def]
    from collector.sla.calendar import zone
    from collector.sla.clocks import hours

    lines = [
        f"SLA compliance — {result.customer}, {result.period} ({result.tz}; from {table.utc(result.start_ms)[:16]} UTC, {source})",
        f"policy: response {hours(result.response.target_ms)}, plan {hours(result.plan.target_ms)}, "
        f"for {', '.join(policy.severities)}; {result.calendar}; escalation at {', '.join(f'{s:.0%}' for s in policy.escalate_at)}",
        "",
        f"incidents: {len(result.incidents)}" + (f"  ({result.not_covered} more not covered: other severities or folded under a site incident)"
                                                  if result.not_covered else ""),
    ]
    if not result.incidents:
        return "\n".join(lines)
    summary = [[s.name, hours(s.target_ms), str(s.met), str(s.missed), str(s.running), _percent(s), _time(s.mean_ms), _time(s.p90_ms)]
               for s in (result.response, result.plan)]
    lines += ["", table.render(["CLOCK", "TARGET", "MET", "MISSED", "RUNNING", "WITHIN TARGET", "MEAN", "P90"], summary,
                               right=(2, 3, 4, 5, 6, 7)), ""]
    tz = zone(result.tz)
    body = [[str(row.incident_id), row.severity, row.device_id, row.check_id,
             dt.datetime.fromtimestamp(row.seen_ms / 1000, tz).strftime("%Y-%m-%d %H:%M"),
             hours(response.elapsed_ms), response.state, hours(plan.elapsed_ms), plan.state]
            for row, response, plan in result.incidents]
    lines.append(table.render(["ID", "SEVERITY", "DEVICE", "CHECK", f"SEEN ({result.tz})", "RESPONSE", "STATE", "PLAN", "STATE"], body,
                              right=(5, 7)))
    lines.append("")
    lines.append("Times are contract time (the calendar's hours only). Within target = met / (met + missed); "
                 "mean and p90 over stopped clocks.")
    return "\n".join(lines)


def _notices(engine, args: argparse.Namespace) -> str:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from collector.mail import outbox
    from collector.notify import webhook
    from collector.store import schema

    n = schema.incident_notices
    query = select(n).order_by(n.c.notice_id.desc()).limit(args.limit)
    if args.incident is not None:
        query = query.where(n.c.incident_id == args.incident)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    if not rows:
        return "No notices."
    body = []
    for r in rows:
        delivered = [f"{d.recipient} {d.status}" + (f" ({d.last_error[:60]})" if d.status != "sent" and d.last_error else "")
                     for d in outbox.deliveries(engine, r.key)]
        delivered += [f"webhook {h.status}" + (f" ({h.last_error[:60]})" if h.status != "sent" and h.last_error else "")
                      for h in webhook.deliveries(engine, r.key)]
        body.append([str(r.incident_id), r.kind + (f" L{r.level}" if r.level else ""), r.state, table.utc(r.at_ms),
                     "; ".join(delivered) or r.reason or "-"])
    return table.render(["INCIDENT", "NOTICE", "STATE", "AT (UTC)", "DELIVERY"], body)
