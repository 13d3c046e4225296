"""`vigil playbooks`, `vigil run`, `vigil runs`: remote diagnosis from the engineer's terminal.

`vigil run` queues the run in the store and follows its output rows as the
collector stores them, so the device's answers scroll by live; Ctrl-C asks
the agent to cancel and waits for it to say so. The run stays on record
whatever happens to the terminal.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from collector.cli import table
from collector.cli.errors import UsageError

COMMANDS = ("playbooks", "run", "runs")
FOLLOW_POLL_S = 0.05
SEVERITY_ORDER = {"critical": 0, "major": 1, "minor": 2, "warning": 3, "info": 4}


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    extra = {"action": "append", "type": Path, "default": [], "metavar": "DIR",
             "help": "also load playbooks from DIR (repeatable; also $VIGIL_PLAYBOOKS, colon-separated)"}
    listing = commands.add_parser("playbooks", help="diagnostic playbooks: id, title, platforms, mode, parameters")
    listing.add_argument("--platform", help="only those for this platform (linux, cisco_ios, huawei_vrp, hp_comware, agent)")
    listing.add_argument("--playbooks", **extra)

    run = commands.add_parser("run", help="run a playbook on a customer device through its agent, output live")
    run.add_argument("playbook", metavar="PLAYBOOK", help="playbook id (see `vigil playbooks`)")
    run.add_argument("--device", required=True, metavar="DEVICE", help="DEVICE, AGENT/DEVICE or CUSTOMER/SITE/DEVICE")
    run.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="a playbook parameter (repeatable)")
    run.add_argument("--by", default=os.environ.get("VIGIL_USER") or getpass.getuser(),
                     help="who asks (default $VIGIL_USER or your login); on record with the run")
    run.add_argument("--approved-by", default="", metavar="NAME",
                     help="change playbooks only: who at the customer approved this run")
    run.add_argument("--approval-note", default="", metavar="TEXT", help="change playbooks: the approval's reference or note")
    run.add_argument("--detach", action="store_true", help="queue the run and print its id without following it")
    run.add_argument("--playbooks", **extra)

    runs = commands.add_parser("runs", help="playbook runs on record, newest first; `runs show ID`; `runs cancel ID`")
    runs.add_argument("action", nargs="?", choices=("show", "cancel"), help="show one run in full, or cancel it")
    runs.add_argument("run_id", nargs="?", type=int, metavar="ID")
    runs.add_argument("--customer", help="only this customer's runs")
    runs.add_argument("--device", help="only this device's runs")
    runs.add_argument("--incident", type=int, metavar="ID", help="only runs started for this incident")
    runs.add_argument("--limit", type=int, default=30)
    runs.add_argument("--by", default=os.environ.get("VIGIL_USER") or getpass.getuser(), help="who cancels (with `cancel`)")


def library(dirs: list[Path]) -> Any:
    from playbooks import SHIPPED
    from playbooks.library import PlaybookError, load

    extra = [Path(p) for p in os.environ.get("VIGIL_PLAYBOOKS", "").split(":") if p]
    try:
        return load([SHIPPED, *extra, *dirs])
    except PlaybookError as exc:
        raise UsageError(str(exc)) from None


def run(args: argparse.Namespace, url: str | None) -> int:
    if args.command == "playbooks":
        print(_playbooks(library(args.playbooks), args.platform))
        return 0
    from collector.cli import store

    assert url is not None
    with store.opened(url) as engine:
        if args.command == "run":
            return _run(engine, args)
        if args.action is None:
            print(_listing(engine, args))
            return 0
        if args.run_id is None:
            raise UsageError(f"`vigil runs {args.action}` needs a run id")
        if args.action == "cancel":
            from collector.runs import records

            if not records.request_cancel(engine, args.run_id, args.by):
                raise UsageError(f"run {args.run_id} is not running (see `vigil runs show {args.run_id}`)")
            print(f"run {args.run_id}: cancel requested")
            return 0
        print(show(engine, args.run_id))
        return 0


# ---------------------------------------------------------------- listing


def _playbooks(lib: Any, platform: str | None) -> str:
    rows = [
        [pb.id, pb.mode, ", ".join(pb.platforms), ", ".join(_param_text(p) for p in pb.params.values()) or "—",
         f"{pb.title.en} / {pb.title.zh}"]
        for pb in sorted(lib, key=lambda p: p.id)
        if platform is None or platform in pb.platforms
    ]
    if not rows:
        return f"No playbooks for platform {platform}." if platform else "No playbooks installed."
    return table.render(["ID", "MODE", "PLATFORMS", "PARAMETERS", "TITLE"], rows)


def _param_text(param: Any) -> str:
    return param.name if getattr(param, "required", False) else f"[{param.name}]"


def _listing(engine, args: argparse.Namespace) -> str:  # type: ignore[no-untyped-def]
    from collector.runs import records

    rows = records.listing(engine, customer=args.customer, device=args.device, incident_id=args.incident, limit=args.limit)
    if not rows:
        return "No playbook runs on record."
    body = [
        [str(r.run_id), r.status, r.playbook_id, f"{r.customer}/{r.site}/{r.device_id}", r.requested_by,
         table.utc(r.requested_ms), f"{r.duration_ms / 1000:.1f}s" if r.finished_ms else "—",
         str(len(json.loads(r.findings or "[]"))), f"#{r.incident_id}" if r.incident_id else ""]
        for r in rows
    ]
    return table.render(["ID", "STATUS", "PLAYBOOK", "DEVICE", "ASKED BY", "ASKED (UTC)", "TOOK", "FINDINGS", "INCIDENT"],
                        body, right=(0, 6, 7))


def show(engine, run_id: int) -> str:  # type: ignore[no-untyped-def]
    """One run in full: who asked what, every step's output, the findings."""
    from collector.runs import records

    r = records.get(engine, run_id)
    if r is None:
        raise UsageError(f"no run {run_id}")
    params = json.loads(r.params or "{}")
    lines = [
        f"run {r.run_id} — {r.playbook_id} on {r.customer}/{r.site}/{r.device_id} (agent {r.agent_id})",
        f"  status     {r.status}" + (f": {r.error}" if r.error else ""),
        f"  asked by   {r.requested_by}, {table.utc(r.requested_ms)} UTC" + (f", for incident {r.incident_id}" if r.incident_id else ""),
        f"  playbook   {r.playbook_id} ({r.mode}), content {r.playbook_hash[:12]}…",
        f"  parameters {', '.join(f'{k}={v}' for k, v in params.items()) or '—'}",
    ]
    if r.approval:
        a = json.loads(r.approval)
        lines.append(f"  approved   by {a.get('approved_by')} at {table.utc(int(a.get('approved_at_ms', 0)))} UTC"
                     + (f" ({a['note']})" if a.get("note") else "") + f", recorded by {a.get('recorded_by', '?')}")
    if r.finished_ms:
        lines.append(f"  took       {r.duration_ms / 1000:.1f} s, ended {table.utc(r.finished_ms)} UTC")
    lines.append("")
    lines += [format_item(item) for item in records.output_of(engine, run_id)]
    findings = json.loads(r.findings or "[]")
    lines += ["", findings_text(findings)]
    return "\n".join(lines)


def format_item(item: Any) -> str:
    if item.kind == "step_started":
        return f"── {item.step}: {item.text}"
    if item.kind == "lines":
        return item.text
    data = json.loads(item.data or "{}")
    status = "timed out" if data.get("timed_out") else (f"exit {data['exit_status']}" if data.get("exit_status", -1) >= 0 else "done")
    notes = [status, f"{data.get('duration_ms', 0) / 1000:.1f} s"]
    if data.get("truncated"):
        notes.append("output cut at the size limit")
    if data.get("rows") is not None:
        notes.append(f"{len(data['rows'])} rows parsed")
    if data.get("error") and not data.get("timed_out"):
        notes.append(data["error"])
    return f"   ({', '.join(notes)})"


def findings_text(findings: list[dict[str, Any]]) -> str:
    if not findings:
        return "No findings: nothing in the device's answers calls for action."
    ordered = sorted(findings, key=lambda f: SEVERITY_ORDER.get(f.get("severity", "info"), 9))
    body = [[f.get("severity", ""), f.get("step", ""), _text(f.get("title"), "en"), _evidence(f.get("evidence"))] for f in ordered]
    lines = [f"Findings ({len(findings)})", table.render(["SEVERITY", "STEP", "FINDING", "EVIDENCE"], body), ""]
    for number, f in enumerate(ordered, 1):
        lines.append(f"{number}. {_text(f.get('title'), 'en')} / {_text(f.get('title'), 'zh')}")
        for label, key in (("why", "explanation"), ("do", "advice")):
            lines.append(f"   {label:<4} {_text(f.get(key), 'en')}")
            lines.append(f"        {_text(f.get(key), 'zh')}")
    return "\n".join(lines)


def _text(value: Any, lang: str) -> str:
    if isinstance(value, dict):
        return str(value.get(lang) or value.get("en") or "")
    return str(value or "")


def _evidence(evidence: Any) -> str:
    if isinstance(evidence, dict):
        return ", ".join(f"{k}={v}" for k, v in evidence.items())
    return str(evidence or "")


# ---------------------------------------------------------------- run and follow


def _params(pairs: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--param {pair!r}: write NAME=VALUE")
        params[name.strip()] = value
    return params


def _run(engine, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from collector.runs import submit

    try:
        device = submit.find_device(engine, args.device)
        run_id = submit.submit(engine, library(args.playbooks), args.playbook, device, _params(args.param), args.by,
                               approved_by=args.approved_by, approval_note=args.approval_note)
    except submit.RunError as exc:
        raise UsageError(str(exc)) from None
    print(f"run {run_id}: {args.playbook} on {device.customer}/{device.site}/{device.device_id}", file=sys.stderr, flush=True)
    if args.detach:
        print(run_id)
        return 0
    return follow(engine, run_id, args.by)


def follow(engine, run_id: int, who: str) -> int:  # type: ignore[no-untyped-def]
    """Print the run's output as it is stored; Ctrl-C asks for a cancel, a second one leaves."""
    from collector.runs import records

    seen = 0
    cancelled = False
    while True:
        try:
            for item in records.output_of(engine, run_id, seen):
                print(format_item(item), flush=True)
                seen = item.seq
            row = records.get(engine, run_id)
            if row.status in records.FINAL:
                for item in records.output_of(engine, run_id, seen):
                    print(format_item(item), flush=True)
                break
            time.sleep(FOLLOW_POLL_S)
        except KeyboardInterrupt:
            if cancelled:
                print(f"\nleft run {run_id} running; see `vigil runs show {run_id}`", file=sys.stderr)
                return 130
            cancelled = True
            records.request_cancel(engine, run_id, who)
            print(f"\ncancelling run {run_id} (Ctrl-C again to leave it)…", file=sys.stderr, flush=True)
    print()
    print(findings_text(json.loads(row.findings or "[]")))
    if row.status != "ok":
        print(f"vigil: run {run_id} {row.status}: {row.error}", file=sys.stderr)  # e.g. "run 7 timeout: step …"
        return 1
    return 0
