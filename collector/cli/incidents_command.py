"""`vigil incidents`, `vigil incident show`, `vigil ack`, `vigil plan`, `vigil resolve`, `vigil close`.

The engineer's side of an incident, straight on the store like the rest of
the CLI: what is open, what happened on a device, and the steps the service
contract times (acknowledged within 2 h, plan within 48 h).
"""

from __future__ import annotations

import argparse
import getpass
import os
import time
from collections.abc import Callable

from collector.cli import table
from collector.cli.errors import UsageError

COMMANDS = ("incidents", "incident", "ack", "plan", "resolve", "close")


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    listing = commands.add_parser("incidents", help="incidents, newest first: open ones, or all of a period")
    listing.add_argument("--open", action="store_true", help="only those not resolved yet")
    listing.add_argument("--customer", help="only this customer's")
    listing.add_argument("--device", help="only this device's")
    listing.add_argument("--limit", type=int, default=50)
    show = commands.add_parser("incident", help="one incident: what, analysis, advice, timeline")
    show.add_argument("action", choices=("show",))
    show.add_argument("incident_id", type=int, metavar="ID")
    by = {"default": os.environ.get("VIGIL_USER") or getpass.getuser(), "help": "who you are (default $VIGIL_USER or your login)"}
    ack = commands.add_parser("ack", help="acknowledge an incident: the response the contract times")
    ack.add_argument("incident_id", type=int, metavar="ID")
    ack.add_argument("--by", **by)
    plan = commands.add_parser("plan", help="give the resolution plan: what will be done, by whom, when")
    plan.add_argument("incident_id", type=int, metavar="ID")
    plan.add_argument("--text", required=True)
    plan.add_argument("--by", **by)
    for name, what in (("resolve", "the fault is fixed"), ("close", "nothing more to do")):
        step = commands.add_parser(name, help=f"{name} an incident: {what}")
        step.add_argument("incident_id", type=int, metavar="ID")
        step.add_argument("--note", default="", required=name == "resolve")
        step.add_argument("--by", **by)


def run(args: argparse.Namespace, url: str) -> int:
    from collector.cli import store
    from collector.incidents import lifecycle

    with store.opened(url) as engine:
        action: Callable[[], str] = {
            "incidents": lambda: _listing(engine, args),
            "incident": lambda: _show(engine, args.incident_id),
            "ack": lambda: _do(lifecycle.acknowledge, engine, args.incident_id, args.by),
            "plan": lambda: _do(lifecycle.plan, engine, args.incident_id, args.by, args.text),
            "resolve": lambda: _do(lifecycle.resolve, engine, args.incident_id, args.by, args.note),
            "close": lambda: _do(lifecycle.close, engine, args.incident_id, args.by, args.note),
        }[args.command]
        try:
            print(action())
        except lifecycle.LifecycleError as exc:
            raise UsageError(str(exc)) from None
    return 0


def _do(step, engine, incident_id: int, *rest: str) -> str:  # type: ignore[no-untyped-def]
    from collector.incidents import lifecycle

    step(engine, incident_id, *rest)
    row = lifecycle.get(engine, incident_id)
    return f"incident {incident_id}: {row.status} ({row.title_en} on {row.device_id})"


def _listing(engine, args: argparse.Namespace) -> str:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from collector.store import schema

    i = schema.incidents
    query = select(i).order_by(i.c.happened_ms.desc(), i.c.incident_id.desc()).limit(args.limit)
    if args.open:
        query = query.where(i.c.status.in_(("open", "acknowledged", "planned")))
    if args.customer:
        query = query.where(i.c.customer == args.customer)
    if args.device:
        query = query.where(i.c.device_id == args.device)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    if not rows:
        return "No open incidents." if args.open else "No incidents."
    now = time.time()
    body = [
        [str(r.incident_id), r.status.upper() + (" ⚡flapping" if r.flapping else ""), r.severity, r.customer or "-",
         r.device_id, f"{r.title_en} / {r.title_zh}", r.instance.partition("=")[2] or "-",
         table.utc(r.happened_ms), table.ago(r.happened_ms, now)]
        for r in rows
    ]
    return table.render(["ID", "STATUS", "SEVERITY", "CUSTOMER", "DEVICE", "CHECK", "INSTANCE", "HAPPENED (UTC)", "AGE"], body)


def _show(engine, incident_id: int) -> str:  # type: ignore[no-untyped-def]
    from collector.incidents import lifecycle

    r = lifecycle.get(engine, incident_id)
    lines = [
        f"incident {r.incident_id} — {r.title_en} / {r.title_zh}",
        f"  status     {r.status}{'  (flapping: ' + str(r.flaps) + ' re-fires)' if r.flapping else ''}",
        f"  severity   {r.severity}",
        f"  where      {r.customer} / {r.site} / {r.device_id} (agent {r.agent_id})"
        + (f", {r.instance}" if r.instance else ""),
        f"  happened   {table.utc(r.happened_ms)} UTC, seen {table.utc(r.seen_ms)} UTC",
        "",
        "  analysis   " + r.analysis_en,
        "             " + r.analysis_zh,
        "  advice     " + r.advice_en,
        "             " + r.advice_zh,
    ]
    if r.plan_text:
        lines += ["", f"  plan       {r.plan_text}  ({r.plan_by}, {table.utc(r.plan_ms)} UTC)"]
    lines += ["", "  timeline"]
    body = [[table.utc(t.at_ms), t.kind, t.who, t.text] for t in lifecycle.timeline(engine, incident_id)]
    lines += ["    " + line for line in table.render(["TIME (UTC)", "STEP", "WHO", "WHAT"], body).splitlines()]
    return "\n".join(lines)
