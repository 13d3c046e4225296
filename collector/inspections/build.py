"""One inspection: every device of a customer in scope, judged over a period, plus the service (SLA) summary.

Devices are read and judged in batches (about `BATCH_SERIES` series'
rollups in memory at a time), so a 500-device customer costs the memory of
a few dozen devices. The
SLA figures come from collector/sla (the same clocks as `vigil sla`): both
clocks start when Vigil first saw the incident, in the customer's contract
time; an incident counts in the period its clocks started in.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine, Row

import checks
from checks.rules import Absent, Drop, Forecast, OnEvent, Restart, Rise
from checks.spec import Check
from collector.inspections import data, devices
from collector.inspections.diagnosis import live_diagnosis
from collector.inspections.evaluate import PENALTY, DeviceInputs, Evaluator, Settings, library_settings, score
from collector.inspections.model import (
    Changes,
    ClockFigures,
    DeviceResult,
    IncidentFigure,
    Inspection,
    Outlook,
    ServiceFigures,
    SiteFigures,
)
from collector.inspections.period import Period

BATCH_SERIES = 1500     # series whose rollups are in memory at once (a month of 1,500 series is ~70 MB of arrays)
HOUR_MS = data.HOUR_MS


@dataclass
class Scope:
    """Whose devices, and with which settings."""

    customer: str
    display_name: str = ""
    provider: str = "Vigil"
    sites: tuple[str, ...] = ()
    sla: object | None = None                  # collector.config.SlaPolicy; None: the contract defaults (2 h / 48 h)
    settings: Settings = library_settings       # per device/instance thresholds (checks/overrides.py)
    library: Mapping[str, Check] = field(default_factory=checks.library)


@dataclass
class Timings:
    """Seconds spent, for the benchmark's split."""

    read_s: float = 0.0
    judge_s: float = 0.0


def build(engine: Engine, scope: Scope, period: Period, number: str, now_ms: int | None = None,
          previous: Inspection | None = None, timings: Timings | None = None,
          progress: Callable[[int, int], None] | None = None) -> Inspection:
    now = int(time.time() * 1000) if now_ms is None else now_ms
    timings = timings or Timings()
    until = min(period.end_ms, max(period.start_ms + HOUR_MS, now))
    library = scope.library
    evaluator = Evaluator(library, period.start_ms, until, period.timezone, scope.settings)
    capacity = devices.capacity_checks(library)
    limits = devices.chart_limits(library)
    lookback_ms = max((int(c.thresholds.get("lookback", 0) * 1000) for c in library.values() if isinstance(c.rule, Forecast)),
                      default=0)
    since = period.start_ms - max(HOUR_MS, lookback_ms)
    forecast_metrics = {c.applies.metric for c in library.values() if isinstance(c.rule, Forecast)}
    # Series whose `last` is read: uptimes (restarts, identity), running totals, the identity's newest sysDescr.
    last_metrics = {c.applies.metric for c in library.values() if isinstance(c.rule, (Restart, Drop, Rise))}
    last_metrics |= {*devices.UPTIME_METRICS, devices.INFO_METRIC}
    # Series read hour by hour even when constant: charted, forecast, timed (gaps, restarts, totals), availability.
    every_hour = forecast_metrics | last_metrics | set(devices.CHART_METRICS) | {devices.UP_METRIC}
    every_hour |= {c.applies.metric for c in library.values() if isinstance(c.rule, Absent)}
    metrics = {c.applies.metric for c in library.values() if not isinstance(c.rule, OnEvent)}
    metrics |= {c.applies.only_if[0] for c in library.values() if c.applies.only_if}
    metrics |= set(devices.EXTRA_METRICS)

    clock = time.perf_counter()
    in_scope = data.devices_in_scope(engine, scope.customer, scope.sites)
    series = data.series_of(engine, in_scope, metrics)
    incidents, timelines = data.incidents_of(engine, scope.customer, period.start_ms, until, scope.sites)
    events = data.events_of(engine, in_scope, period.start_ms, until)
    timings.read_s += time.perf_counter() - clock

    by_device: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for incident in incidents:
        by_device[(incident.agent_id, incident.device_id)].append(incident)

    results: list[DeviceResult] = []
    outlook: list[Outlook] = []
    for batch in _batches(in_scope, series):
        clock = time.perf_counter()
        wanted = [s for d in batch for s in series.get(d.key, ())]
        hourly = data.constant_series(engine, (s.series_id for s in wanted if s.metric not in every_hour), period.start_ms, until)
        hourly.update(data.hourly(engine, (s.series_id for s in wanted if s.metric not in forecast_metrics | last_metrics
                                           and s.series_id not in hourly), period.start_ms - HOUR_MS, until))
        hourly.update(data.hourly(engine, (s.series_id for s in wanted if s.metric in last_metrics), period.start_ms - HOUR_MS,
                                  until, with_last=True))
        hourly.update(data.hourly(engine, (s.series_id for s in wanted if s.metric in forecast_metrics), since, until))
        timings.read_s += time.perf_counter() - clock
        clock = time.perf_counter()
        for device in batch:
            own = series.get(device.key, [])
            inputs = DeviceInputs(device, own, hourly, events.get(device.key, []), by_device.get(device.key, []))
            checks_run, findings = evaluator.device(inputs)
            model, software, uptime = devices.identity(device, own, hourly)
            avail, coverage = devices.availability(own, hourly, period.start_ms, until, device.first_seen_ms)
            results.append(DeviceResult(
                device.agent_id, device.device_id, device.name, device.kind, device.platform, device.site, device.address,
                model, software, uptime, device.first_seen_ms, device.last_seen_ms, avail, coverage, score(findings),
                checks_run, findings, devices.trends(device, own, hourly, period.start_ms, until, limits),
                live_diagnosis(engine, device),
            ))
            outlook += devices.outlook(device, own, hourly, period.start_ms, until, capacity, scope.settings)
        timings.judge_s += time.perf_counter() - clock
        if progress is not None:
            progress(len(results), len(in_scope))
    outlook.sort(key=lambda o: (o.days_left if o.days_left is not None else 1e9, o.device_name, o.instance))

    service, incident_figures = _service(scope, incidents, timelines, period, until, now)
    sites = _sites(results, incident_figures)
    overall = round(sum(d.score for d in results) / len(results), 1) if results else None
    inspection = Inspection(
        customer=scope.customer, display_name=scope.display_name or scope.customer, provider=scope.provider,
        number=number, period_label=period.label, start_ms=period.start_ms, end_ms=period.end_ms,
        timezone=period.timezone, generated_ms=now, sites=sites, devices=results, incidents=incident_figures,
        service=service, outlook=outlook, score=overall, penalties=dict(PENALTY),
    )
    if previous is not None:
        inspection.changes = compare(previous, inspection)
    return inspection


def _batches(devices: Sequence[data.DeviceRow], series: Mapping[tuple[str, str], list[data.SeriesRow]]):  # type: ignore[no-untyped-def]
    """Consecutive devices with about `BATCH_SERIES` series between them (one device at least)."""
    batch: list[data.DeviceRow] = []
    size = 0
    for device in devices:
        count = len(series.get(device.key, ()))
        if batch and size + count > BATCH_SERIES:
            yield batch
            batch, size = [], 0
        batch.append(device)
        size += count
    if batch:
        yield batch


def _service(scope: Scope, incidents: Sequence[Row], timelines: Mapping[int, list[Row]], period: Period, until: int,
             now: int) -> tuple[ServiceFigures, list[IncidentFigure]]:
    from collector.config import SlaPolicy
    from collector.sla.clocks import clocks
    from collector.sla.report import ClockSummary

    policy = scope.sla if scope.sla is not None else SlaPolicy()
    calendar = policy.build_calendar()  # type: ignore[attr-defined]
    response = ClockSummary("response", int(policy.response * 1000))  # type: ignore[attr-defined]
    plan = ClockSummary("plan", int(policy.plan * 1000))  # type: ignore[attr-defined]
    not_covered = 0
    figures: list[IncidentFigure] = []
    for row in incidents:
        found = clocks(row, timelines.get(row.incident_id, []), policy, now, calendar)  # type: ignore[arg-type]
        counted = period.start_ms <= row.seen_ms < until
        if found is None:
            not_covered += counted
        elif counted:
            response.add(found[0])
            plan.add(found[1])
        figures.append(IncidentFigure(
            int(row.incident_id), row.agent_id, row.device_id, row.site, row.check_id, row.instance, row.severity,
            row.status, row.title_en, row.title_zh, int(row.happened_ms), int(row.seen_ms), int(row.acknowledged_ms),
            int(row.plan_ms), int(row.resolved_ms), found is not None,
            None if found is None else found[0].elapsed_ms, "" if found is None else found[0].state,
            None if found is None else found[1].elapsed_ms, "" if found is None else found[1].state,
        ))
    service = ServiceFigures(
        calendar=calendar.name, severities=list(policy.severities),  # type: ignore[attr-defined]
        response=_clock(response), plan=_clock(plan), not_covered=not_covered,
    )
    return service, figures


def _clock(summary) -> ClockFigures:  # type: ignore[no-untyped-def]
    return ClockFigures(summary.target_ms, summary.met, summary.missed, summary.running, summary.mean_ms, summary.p90_ms)


def _sites(results: Sequence[DeviceResult], incidents: Sequence[IncidentFigure]) -> list[SiteFigures]:
    sites: dict[str, list[DeviceResult]] = defaultdict(list)
    for device in results:
        sites[device.site].append(device)
    found = []
    for site, members in sorted(sites.items()):
        known = [d.availability for d in members if d.availability is not None]
        found.append(SiteFigures(
            site, len(members), sum(known) / len(known) if known else None,
            sum(1 for i in incidents if i.site == site), sum(len(d.findings) for d in members),
        ))
    return found


def compare(previous: Inspection, current: Inspection) -> Changes:
    def keys(inspection: Inspection) -> set[str]:
        return {f"{d.key}|{f.key}" for d in inspection.devices for f in inspection_findings(d)}

    def inspection_findings(device: DeviceResult):  # type: ignore[no-untyped-def]
        return [f for f in device.findings if f.severity != "info"]

    before, now = keys(previous), keys(current)
    old_devices, new_devices = {d.key for d in previous.devices}, {d.key for d in current.devices}
    return Changes(
        previous.number, previous.period_label, previous.score,
        sorted(new_devices - old_devices), sorted(old_devices - new_devices),
        sorted(now - before), sorted(before - now), sorted(now & before),
    )
