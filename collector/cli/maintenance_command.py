"""`vigil maintenance add|list|show|end`: planned work during which incidents neither open nor notify.

Registered through sla_command (one line in main.py for both). Times are
given in `--tz` (default UTC) or with an explicit offset, shown in UTC.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from collector.cli import table
from collector.cli.errors import UsageError


def add_parser(commands: argparse._SubParsersAction, by: dict[str, str]) -> None:  # type: ignore[type-arg]
    from collector.cli.main import _duration_arg

    parser = commands.add_parser("maintenance", help="maintenance windows: nothing opens or notifies for what they cover")
    actions = parser.add_subparsers(dest="maintenance_action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="plan a window for a customer, a site or a device")
    add.add_argument("--customer", required=True)
    add.add_argument("--site", default="", help="only this site")
    add.add_argument("--agent", default="", help="only this agent's devices (with --device when ids repeat)")
    add.add_argument("--device", default="", help="only this device")
    add.add_argument("--start", default="now", help="'now' (default), '2026-11-20 22:00' in --tz, or ISO 8601 with offset")
    add.add_argument("--end", help="when it ends (like --start)")
    add.add_argument("--for", dest="duration", type=_duration_arg, help="or how long: 30m, 2h")
    add.add_argument("--tz", default="UTC", help="zone of --start/--end without an offset (e.g. Asia/Shanghai; default UTC)")
    add.add_argument("--reason", default="", help="what the work is (shown in the record)")
    add.add_argument("--by", **by)
    listing = actions.add_parser("list", help="current and coming windows")
    listing.add_argument("--all", action="store_true", help="past ones too")
    listing.add_argument("--customer")
    show = actions.add_parser("show", help="one window and what it held back")
    show.add_argument("window_id", type=int, metavar="ID")
    end = actions.add_parser("end", help="end a window now (what still fails is opened at the collector's next sweep)")
    end.add_argument("window_id", type=int, metavar="ID")


def run(args: argparse.Namespace, url: str) -> int:
    from collector.cli import store
    from collector.incidents import maintenance

    with store.opened(url) as engine:
        now = int(time.time() * 1000)
        try:
            if args.maintenance_action == "add":
                starts = _when(args.start, args.tz, now)
                if args.end:
                    ends = _when(args.end, args.tz, now)
                elif args.duration:
                    ends = starts + int(args.duration * 1000)
                else:
                    raise UsageError("give --end or --for (how long the work takes)")
                window_id = maintenance.add(engine, args.customer, starts, ends, site=args.site, agent_id=args.agent,
                                            device_id=args.device, reason=args.reason, who=args.by)
                (row,) = [w for w in maintenance.listing(engine, 0, include_past=True) if w.window_id == window_id]
                print(f"maintenance window {window_id} added: {_scope(row)}, {_span(row)}")
            elif args.maintenance_action == "list":
                print(_listing(maintenance.listing(engine, now, include_past=args.all, customer=args.customer), now))
            elif args.maintenance_action == "show":
                print(_show(engine, args.window_id, now))
            else:
                row = maintenance.end(engine, args.window_id, now)
                print(f"maintenance window {row.window_id} ended: {_scope(row)}, {_span(row)}")
        except maintenance.MaintenanceError as exc:
            raise UsageError(str(exc)) from None
    return 0


def _when(text: str, tz_name: str, now_ms: int) -> int:
    from collector.sla.calendar import zone

    if text.strip().lower() == "now":
        return now_ms
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{text!r} is not a time: write 'now', '2026-11-20 22:00' or 2026-11-20T22:00+08:00") from None
    if moment.tzinfo is None:
        try:
            moment = moment.replace(tzinfo=zone(tz_name))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    return int(moment.timestamp() * 1000)


def _scope(row) -> str:  # type: ignore[no-untyped-def]
    parts = [row.customer, row.site, (row.agent_id + "/" if row.agent_id and row.device_id else row.agent_id) + row.device_id]
    return " / ".join(p for p in parts if p)


def _minute(ms: int) -> str:
    return table.utc(ms)[:16]


def _span(row) -> str:  # type: ignore[no-untyped-def]
    return f"{_minute(row.starts_ms)} → {_minute(row.ends_ms)} UTC"


def _listing(rows, now: int) -> str:  # type: ignore[no-untyped-def]
    if not rows:
        return "No maintenance windows."
    body = [[str(r.window_id), "ON" if r.starts_ms <= now < r.ends_ms else ("ended" if r.ends_ms <= now else "planned"),
             _scope(r), _minute(r.starts_ms), _minute(r.ends_ms), r.created_by or "-", r.reason or "-"] for r in rows]
    return table.render(["ID", "STATE", "COVERS", "STARTS (UTC)", "ENDS (UTC)", "BY", "REASON"], body)


def _show(engine, window_id: int, now: int) -> str:  # type: ignore[no-untyped-def]
    from collector.incidents import maintenance

    rows = [w for w in maintenance.listing(engine, 0, include_past=True) if w.window_id == window_id]
    if not rows:
        raise UsageError(f"no maintenance window {window_id}")
    (w,) = rows
    lines = [f"maintenance window {w.window_id}: {_scope(w)}, {_span(w)}", f"  reason  {w.reason or '-'}",
             f"  by      {w.created_by or '-'}", ""]
    held = maintenance.suppressed(engine, window_id)
    if not held:
        return "\n".join([*lines, "  nothing held back"])
    body = [[table.utc(e.at_ms), e.kind, e.device_id, e.check_id, e.instance.partition("=")[2] or "-"] for e in held]
    lines += ["  held back"] + ["    " + line for line in table.render(["TIME (UTC)", "WHAT", "DEVICE", "CHECK", "INSTANCE"], body).splitlines()]
    return "\n".join(lines)
