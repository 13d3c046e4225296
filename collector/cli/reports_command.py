"""`vigil reports [--customer X]`, `vigil reports show ID`, `vigil reports get ID --format pdf|html -o FILE`.

The stored inspection reports: what was produced for whom and when, the
mail's delivery per recipient, and the document itself, exactly as sent.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from collector.cli import table
from collector.cli.errors import UsageError

COMMANDS = ("reports",)


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    reports = commands.add_parser("reports", help="inspection reports: list them, show one, get its PDF or HTML")
    reports.add_argument("--customer", help="only this customer's")
    reports.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    actions = reports.add_subparsers(dest="reports_action", metavar="ACTION")
    show = actions.add_parser("show", help="one report: its figures, top risks and mail deliveries")
    show.add_argument("report_id", type=int, metavar="ID")
    get = actions.add_parser("get", help="write a report's PDF or HTML to a file")
    get.add_argument("report_id", type=int, metavar="ID")
    get.add_argument("--format", choices=("pdf", "html"), default="pdf")
    get.add_argument("-o", "--output", type=Path, required=True, metavar="FILE", help="where to write it ('-' for stdout)")


def run(args: argparse.Namespace, url: str) -> int:
    from collector.cli import store

    with store.opened(url) as engine:
        if args.reports_action == "show":
            print(_show(engine, args.report_id))
        elif args.reports_action == "get":
            _get(engine, args.report_id, args.format, args.output)
        else:
            print(_listing(engine, args.customer, args.limit))
    return 0


def _when(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M")


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MiB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KiB"


def _mail(engine, inspection_id: int) -> str:  # type: ignore[no-untyped-def]
    rows = _deliveries(engine, inspection_id)
    if not rows:
        return "—"
    sent = sum(1 for r in rows if r.status == "sent")
    return f"{sent}/{len(rows)} sent" + ("" if sent == len(rows) else f", {len(rows) - sent} " + "/".join(sorted({r.status for r in rows if r.status != 'sent'})))


def _deliveries(engine, inspection_id: int) -> list:  # type: ignore[no-untyped-def]
    try:
        from collector.inspections.mailing import key_of
        from collector.mail import outbox
    except ImportError:
        return []
    return list(outbox.deliveries(engine, key_of(inspection_id)))


def _listing(engine, customer: str | None, limit: int) -> str:  # type: ignore[no-untyped-def]
    from collector.inspections import store as inspections

    rows = inspections.reports(engine, customer, limit)
    if not rows:
        return "No inspection reports yet (vigil inspect --customer NAME makes one)."
    body = [[str(r.report_id), r.number, r.customer, r.period_label, r.lang, _when(r.created_ms), r.trigger,
             "—" if r.score is None else f"{r.score:g}", str(r.devices), str(r.findings), str(r.pages), _size(r.pdf_bytes),
             _mail(engine, r.inspection_id)] for r in rows]
    headers = ["ID", "NUMBER", "CUSTOMER", "PERIOD", "LANG", "CREATED", "TRIGGER", "SCORE", "DEVICES", "FINDINGS", "PAGES", "PDF", "MAIL"]
    return table.render(headers, body, right=(0, 7, 8, 9, 10, 11))


def _row(engine, report_id: int):  # type: ignore[no-untyped-def]
    from collector.inspections import store as inspections

    row = inspections.report(engine, report_id)
    if row is None:
        raise UsageError(f"no report {report_id} (see `vigil reports`)")
    return row


def _show(engine, report_id: int) -> str:  # type: ignore[no-untyped-def]
    from collector.inspections.model import Inspection
    from collector.reports.view import View

    row = _row(engine, report_id)
    lines = [
        f"Report {row.report_id}: {row.number} ({row.lang})",
        f"  customer   {row.customer}",
        f"  period     {row.period_label} ({row.timezone})",
        f"  created    {_when(row.created_ms)} ({row.trigger})",
        f"  document   {row.pages} pages, PDF {_size(row.pdf_bytes)}, HTML {_size(row.html_bytes)}",
    ]
    if row.result is not None:
        inspection = Inspection.from_json(row.result)
        context = View(inspection, row.lang).context(with_charts=False)
        lines.append(f"  score      {context['score']}")
        lines += [f"  {label:<10} {value}" for label, value, _ in context["kpis"]]
        counts = ", ".join(f"{label} {n}" for _, label, n in context["severity_counts"] if n)
        lines.append(f"  findings   {counts or '—'}")
        if context["top_risks"]:
            lines.append("  top risks:")
            lines += [f"    [{r['severity_text']}] {r['device']} · {r['title']}" + (f" · {r['instance']}" if r["instance"] else "")
                      + f" — {r['evidence']}" for r in context["top_risks"]]
    deliveries = _deliveries(engine, row.inspection_id)
    if deliveries:
        lines.append("  mail:")
        for d in deliveries:
            when = f" at {_when(d.sent_ms)}" if d.sent_ms else ""
            error = f": {d.last_error}" if d.last_error else ""
            lines.append(f"    {d.recipient}: {d.status} after {d.attempts} attempt(s){when}{error}")
    else:
        lines.append("  mail:      not mailed")
    return "\n".join(lines)


def _get(engine, report_id: int, kind: str, output: Path) -> None:  # type: ignore[no-untyped-def]
    import sys

    from collector.inspections import store as inspections

    row = _row(engine, report_id)
    data = bytes(row.pdf) if kind == "pdf" else inspections.html_of(row).encode("utf-8")
    if str(output) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data)
    print(f"wrote {output} ({_size(len(data))})", file=sys.stderr)
