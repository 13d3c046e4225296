"""`vigil checks`: the check library, and with `--device` the thresholds in effect for one device.

Without `--device` it needs no store, so it works on a laptop to read the
library or to validate an overrides file (`--overrides FILE` alone).
With `--device` it reads the device's customer, site and kind and its
stored series from the store, and shows what the check engine will use:
the checks that read something this device reports, with the thresholds
after overrides (`*` marks an overridden value), then every instance whose
own overrides differ from the device's.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from collector.cli import table
from collector.cli.errors import UsageError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from checks.overrides import Overrides
    from checks.spec import Check
    from collector.store.queries import SeriesInfo


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    checks = commands.add_parser("checks", help="the check library; with --device, the thresholds in effect for a device")
    checks.add_argument("--device", help="device id, or AGENT/DEVICE: show the checks and thresholds it gets (reads the store)")
    checks.add_argument("--overrides", type=Path, metavar="FILE", help="threshold overrides (YAML) to validate and apply")


def run(args: argparse.Namespace, store_url: Callable[[argparse.Namespace], str]) -> int:
    from checks import library
    from checks.overrides import Overrides

    overrides = Overrides.load(args.overrides) if args.overrides else Overrides()
    if args.device is None:
        print(library_table(library()))
        if args.overrides:
            entries = sum(len(e) for e in overrides.by_check.values())
            print(f"\n{args.overrides}: valid, {entries} setting(s) for {len(overrides.by_check)} check(s).")
        return 0
    from sqlalchemy.exc import SQLAlchemyError

    from collector.store.database import connect, is_current

    url = store_url(args)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        raise UsageError(f"no store at {url.removeprefix('sqlite:///')} (has the collector or the demo run?)")
    engine = connect(url)
    try:
        if not is_current(engine):
            raise UsageError("the store is not a Vigil store at the current schema (has the collector run on it?)")
        print(device_tables(engine, args.device, library(), overrides))
    except SQLAlchemyError as exc:
        raise UsageError(f"cannot read the store: {exc.__class__.__name__}: {str(exc).splitlines()[0]}") from None
    finally:
        engine.dispose()
    return 0


# ------------------------------------------------------------------ the library


def library_table(checks: dict[str, Check]) -> str:
    body = [[c.id, c.severity, f"{c.title.en} / {c.title.zh}", applies_text(c), settings_text(c, c.thresholds)]
            for c in checks.values()]
    return table.render(["CHECK", "SEVERITY", "TITLE", "READS", "DEFAULTS"], body)


def applies_text(check: Check) -> str:
    """What a check reads, in one line: metric{labels} per instance, device kinds, gate; or the trap names."""
    from checks.rules import Forecast, OnEvent

    rule, applies = check.rule, check.applies
    if isinstance(rule, OnEvent):
        text = "traps " + ", ".join(rule.fires)
    else:
        text = applies.metric
        if applies.labels:
            text += "{" + ",".join(f"{k}={v}" for k, v in applies.labels) + "}"
    if applies.instance:
        text += " per " + ",".join(applies.instance)
    if isinstance(rule, Forecast):
        text += ", hourly means"
    if applies.only_if:
        text += f", while {applies.only_if[0]}={applies.only_if[1]:g}"
    if applies.device_kinds:
        text += " (" + ", ".join(sorted(applies.device_kinds)) + ")"
    return text


def settings_text(check: Check, thresholds: Mapping[str, float], changed: frozenset[str] = frozenset()) -> str:
    durations = set(check.rule.duration_names())
    shown = []
    for name, value in thresholds.items():
        text = duration(value) if name in durations else f"{value:g}"
        shown.append(f"{name}={text}{'*' if name in changed else ''}")
    return " ".join(shown)


def duration(seconds: float) -> str:
    """`300` → `5m`, `86400` → `1d`: the largest unit that divides it, as an overrides file would say it."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


# ------------------------------------------------------------------ one device


def device_tables(engine: Engine, name: str, checks: dict[str, Check], overrides: Overrides) -> str:
    from checks.rules import OnEvent
    from collector.store import queries

    matches = queries.find_device(engine, name)
    if not matches:
        raise UsageError(f"no device {name!r}; `vigil devices` lists them")
    if len(matches) > 1:
        raise UsageError(f"{name!r} is on several agents ({', '.join(f'{a}/{d}' for a, d in matches)}); say which as AGENT/DEVICE")
    agent_id, device_id = matches[0]
    device = next(r for r in queries.devices(engine, agent_id) if r.device_id == device_id)
    series = queries.series_of(engine, agent_id, device_id)
    polled_over_snmp = "snmp" in device.pollers.split(",")

    rows, instance_rows, unused = [], [], 0
    for check in checks.values():
        if check.applies.device_kinds and device.kind not in check.applies.device_kinds:
            continue
        enabled, thresholds = overrides.effective(check, device.customer, device.site, device_id, {})
        if isinstance(check.rule, OnEvent):
            watches = "traps" if polled_over_snmp else ""
        else:
            instances = _instances(check, device.kind, series)
            watches = str(len(instances)) if instances else ""
            for instance, labels in instances.items():
                own_enabled, own = overrides.effective(check, device.customer, device.site, device_id, labels)
                if (own_enabled, own) != (enabled, thresholds):
                    instance_rows.append([check.id, instance or "(device)", _state(check, own_enabled, own, thresholds)])
        if not watches:
            unused += 1
            continue
        rows.append([check.id, check.severity, watches, _state(check, enabled, thresholds, check.thresholds)])

    lines = [f"{agent_id}/{device_id} ({device.kind}) — customer {device.customer}, site {device.site}"]
    if rows:
        lines.append(table.render(["CHECK", "SEVERITY", "WATCHES", "THRESHOLDS (* overridden)"], rows, right=(2,)))
    else:
        lines.append("No check reads anything this device has reported yet.")
    if instance_rows:
        lines += ["", "Instances with their own settings:",
                  table.render(["CHECK", "INSTANCE", "THRESHOLDS (* differs from the device's)"], instance_rows)]
    if unused:
        lines += ["", f"{unused} more check(s) apply to a {device.kind} but read metrics this device does not report."]
    return "\n".join(lines)


def _instances(check: Check, kind: str, series: list[SeriesInfo]) -> dict[str, dict[str, str]]:
    """The device's instances this check reads (instance key → one series' labels), from its stored series."""
    found: dict[str, dict[str, str]] = {}
    for s in series:
        labels = dict(s.labels)
        if check.applies.matches(s.metric, kind, labels):
            found.setdefault(check.applies.instance_of(labels), labels)
    return found


def _state(check: Check, enabled: bool, thresholds: Mapping[str, float], reference: Mapping[str, float]) -> str:
    if not enabled:
        return "disabled"
    changed = frozenset(k for k, v in thresholds.items() if reference.get(k) != v)
    return settings_text(check, thresholds, changed)
