"""Judge every check that applies to a device over a period, from its hourly rollups, events and incidents.

The live engine (collector/checks/) judges raw points as they arrive; an
inspection looks back over a month of hourly rollups, where a 5-minute
`for` cannot be seen. So each rule gets a period reading of its own, stated
here once and printed in the report's method notes:

* Above (Below mirrored): peak (highest hourly max, and when), p95 of the
  hourly means, mean, hours whose *mean* was above the limit. Any such hour
  is "sustained" (the check's severity); otherwise p95 above the recover
  level is "near" (warning); otherwise a max above the limit is "brief"
  (info: a short peak, shown, not scored).
* State: time in the bad state = Σ per hour (share of bad samples × 1 h),
  only in hours its gate held (an interface counts as down only in hours it
  was admin-up throughout). At least the check's `for`: its severity;
  shorter: info.
* Restart: boots, each hour's boot time being `last_ts − last uptime`; a
  boot time that moved forward by more than 2 minutes is a restart.
* Rise: the running total's growth hour over hour (a drop is a restart of
  the count: its new value is the growth).
* Absent: hours without data between the first and the last hour with data.
* Forecast: the check's own rule replayed hour by hour (forecast.py);
  firing at the end of the period is its severity, firing earlier only is info.
* OnEvent: the events (traps) that fire it, per instance.

Whatever the rollups say, an incident the live engine opened for the same
check and instance in the period makes the result at least the check's
severity: raw points saw what hourly means may hide.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Row

from checks.rules import Above, Absent, Below, Drop, Forecast, OnEvent, Restart, Rise, State, TIMETICKS_WRAP_S
from checks.spec import Check, Text
from collector.inspections import forecast
from collector.inspections.data import HOUR_MS, DeviceRow, Hourly, SeriesRow
from collector.inspections.model import SEVERITY_RANK, CheckResult, Figure, Finding, status_of

Settings = Callable[[Check, DeviceRow, Mapping[str, str]], "tuple[bool, dict[str, float]]"]
PENALTY = {"critical": 30.0, "major": 15.0, "minor": 8.0, "warning": 3.0, "info": 0.0}
BOOT_SLACK_MS = 120_000


def library_settings(check: Check, device: DeviceRow, labels: Mapping[str, str]) -> tuple[bool, dict[str, float]]:
    return True, dict(check.thresholds)


def unit_of(metric: str) -> str:
    for suffix, unit in (("_percent", "%"), ("_celsius", "°C"), ("_per_second", "/s"), ("_seconds", "s"), ("_bytes", "B")):
        if metric.endswith(suffix):
            return unit
    return ""


def instance_text(instance: str) -> str:
    """"interface=Gi1/0/3,direction=in" → "Gi1/0/3 in"."""
    return " ".join(part.partition("=")[2] for part in instance.split(",") if part)


def worse(a: str | None, b: str | None) -> str | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if SEVERITY_RANK[a] >= SEVERITY_RANK[b] else b


# ---------------------------------------------------------------- inspection texts (not the check's own)

NEAR = Text(
    "{device} {instance_sp}ran close to the limit all period: 95 % of hours averaged up to {p95:.1f}{unit} "
    "(recovers below {recover:g}{unit}, fires above {threshold:g}{unit}); peak {peak:.1f}{unit} at {peak_at}.",
    "{device} {instance_sp}整个周期内持续接近阈值：95% 的小时均值不高于 {p95:.1f}{unit}"
    "（恢复线 {recover:g}{unit}，告警阈值 {threshold:g}{unit}）；峰值 {peak:.1f}{unit}（{peak_at}）。",
)
NEAR_BELOW = Text(
    "{device} {instance_sp}ran close to the limit all period: 5 % of hours averaged {p5:.1f}{unit} or less "
    "(recovers above {recover:g}{unit}, fires below {threshold:g}{unit}); lowest {low:.1f}{unit} at {low_at}.",
    "{device} {instance_sp}整个周期内持续接近阈值：5% 的小时均值不高于 {p5:.1f}{unit}"
    "（恢复线 {recover:g}{unit}，告警阈值 {threshold:g}{unit}）；最低 {low:.1f}{unit}（{low_at}）。",
)
BRIEF = Text(
    "{device} {instance_sp}went past the limit of {threshold:g}{unit} only briefly ({extreme:.1f}{unit} at {extreme_at}, "
    "in {hours:.0f} hour(s)); no hour averaged past it. Short peaks are normal; watch them if they grow.",
    "{device} {instance_sp}仅短时超过阈值 {threshold:g}{unit}（{extreme_at} 达到 {extreme:.1f}{unit}，共 {hours:.0f} 个小时出现），"
    "没有任何小时的均值超过阈值。短时峰值属正常现象，如持续增多请关注。",
)
BRIEF_STATE = Text(
    "{device} {instance_sp}was in the failed state for {minutes:.1f} min in total (first at {first_at}), "
    "shorter than the {for_min:g} min the check waits for.",
    "{device} {instance_sp}累计处于异常状态 {minutes:.1f} 分钟（首次 {first_at}），短于检查项要求的持续 {for_min:g} 分钟。",
)
FORECAST_EARLIER = Text(
    "The trend of {device} {instance_sp}pointed at full within {horizon_days:g} days during the period "
    "({fires:.0f} time(s), first at {first_at}), but no longer did at its end ({days_text}).",
    "周期内 {device} {instance_sp}的增长趋势曾预示 {horizon_days:g} 天内写满（{fires:.0f} 次，首次 {first_at}），"
    "周期结束时已不再如此（{days_text_zh}）。",
)


# ---------------------------------------------------------------- one device


@dataclass(slots=True)
class DeviceInputs:
    device: DeviceRow
    series: list[SeriesRow]
    hourly: dict[int, Hourly]            # hours from before the period (forecast lookback) to its end
    events: list[Row]
    incidents: list[Row]


class Evaluator:
    """Every applicable check of the library over [start, until) for one device at a time."""

    def __init__(self, library: Mapping[str, Check], start_ms: int, until_ms: int, tz: str,
                 settings: Settings = library_settings) -> None:
        self.library = library
        self.start_ms, self.until_ms = start_ms, until_ms
        self.tz = ZoneInfo(tz)
        self.settings = settings
        self._point = [c for c in library.values() if not isinstance(c.rule, OnEvent)]
        self._events = [c for c in library.values() if isinstance(c.rule, OnEvent)]

    def when(self, ms: int) -> str:
        return dt.datetime.fromtimestamp(ms / 1000, self.tz).strftime("%m-%d %H:%M")

    # ------------------------------------------------------------ the checks

    def device(self, inputs: DeviceInputs) -> tuple[list[CheckResult], list[Finding]]:
        device = inputs.device
        by_metric: dict[str, list[SeriesRow]] = defaultdict(list)
        for series in inputs.series:
            by_metric[series.metric].append(series)
        results: dict[tuple[str, str], CheckResult] = {}
        context: dict[tuple[str, str], dict[str, object]] = {}
        for check in self._point:
            for series in by_metric.get(check.applies.metric, ()):
                if not check.applies.matches(series.metric, device.kind, series.labels):
                    continue
                enabled, thresholds = self.settings(check, device, series.labels)
                if not enabled:
                    continue
                instance = check.applies.instance_of(series.labels)
                history = inputs.hourly.get(series.series_id)
                gate = self._gate(check, series, by_metric, inputs.hourly)
                result, values = self._judge(check, thresholds, instance, series.metric, history, gate)
                key = (check.id, instance)
                if key not in results or _rank(result) > _rank(results[key]):
                    results[key] = result
                    context[key] = {**thresholds, **values}
        if "snmp" in device.pollers or inputs.events:
            for check in self._events:
                for result, values in self._judge_events(check, device, inputs.events):
                    key = (check.id, result.instance)
                    results[key] = result
                    context[key] = values
        self._merge_incidents(device, inputs.incidents, results, context)
        ordered = sorted(results.values(), key=lambda r: (r.check_id, r.instance))
        findings = [self._finding(device, r, context[(r.check_id, r.instance)]) for r in ordered if r.severity is not None]
        findings.sort(key=lambda f: (-SEVERITY_RANK[f.severity], f.check_id, f.instance))
        return ordered, findings

    def _gate(self, check: Check, series: SeriesRow, by_metric: Mapping[str, list[SeriesRow]],
              hourly: Mapping[int, Hourly]) -> tuple[Hourly, float] | None:
        """The companion series an `only_if` names (same instance), and the value it must hold."""
        if not check.applies.only_if:
            return None
        metric, value = check.applies.only_if
        instance = check.applies.instance_of(series.labels)
        for companion in by_metric.get(metric, ()):
            if check.applies.instance_of(companion.labels) == instance and companion.series_id in hourly:
                return hourly[companion.series_id], value
        return None

    def _judge(self, check: Check, thresholds: Mapping[str, float], instance: str, metric: str,
               history: Hourly | None, gate: tuple[Hourly, float] | None) -> tuple[CheckResult, dict[str, object]]:
        rule, unit = check.rule, unit_of(metric)
        empty = CheckResult(check.id, instance, "nodata", None, "", None, unit, [Figure("samples", 0.0)])
        if history is None or not len(history):
            return empty, {}
        if isinstance(rule, Forecast):
            return self._forecast(check, thresholds, instance, unit, history)
        period = history.within(self.start_ms, self.until_ms)
        if not len(period):
            return empty, {}
        before = history.within(self.start_ms - HOUR_MS, self.start_ms)
        if isinstance(rule, (Above, Below)):
            return self._level(check, rule, thresholds, instance, unit, period)
        if isinstance(rule, State):
            return self._state(check, rule, thresholds, instance, unit, period, gate)
        if isinstance(rule, (Restart, Drop)):
            return self._restarts(check, instance, unit, period, before, isinstance(rule, Restart))
        if isinstance(rule, Rise):
            return self._rise(check, thresholds, instance, unit, period, before)
        if isinstance(rule, Absent):
            return self._gaps(check, instance, unit, period)
        return empty, {}

    def _level(self, check: Check, rule: Above | Below, thresholds: Mapping[str, float], instance: str, unit: str,
               h: Hourly) -> tuple[CheckResult, dict[str, object]]:
        limit = thresholds[rule.threshold]
        recover = thresholds[rule.recover] if rule.recover else limit
        means = h.mean
        mean = float(h.sum.sum() / h.count.sum())
        samples = Figure("samples", float(h.count.sum()))
        if isinstance(rule, Above):
            i = int(np.argmax(h.max))
            extreme, extreme_at = float(h.max[i]), int(h.hour[i])
            pct = float(np.percentile(means, 95))
            sustained, touching = means > limit, h.max > limit
            near = pct > recover
            names = ("peak", "p95", "hours_above")
        else:
            i = int(np.argmin(h.min))
            extreme, extreme_at = float(h.min[i]), int(h.hour[i])
            pct = float(np.percentile(means, 5))
            sustained, touching = means < limit, h.min < limit
            near = pct < recover
            names = ("low", "p5", "hours_below")
        weight = h.weight()
        hours = int(weight[sustained].sum())
        first = int(h.hour[int(np.argmax(sustained))]) if hours else 0
        figures = [Figure(names[0], extreme, unit, extreme_at), Figure(names[2], float(hours), "h", first),
                   Figure(names[1], pct, unit), Figure("mean", mean, unit)]
        values: dict[str, object] = {
            "value": extreme, "threshold": limit, "recover": recover, "unit": unit, "peak": extreme, "low": extreme,
            "peak_at": self.when(extreme_at), "low_at": self.when(extreme_at), "p95": pct, "p5": pct,
            "extreme": extreme, "extreme_at": self.when(extreme_at),
        }
        if hours:
            severity, reason = check.severity, "sustained"
        elif near:
            severity, reason = "warning", "near"
        elif touching.any():
            severity, reason = "info", "brief"
            figures.append(Figure("hours_touching", float(weight[touching].sum()), "h", int(h.hour[int(np.argmax(touching))])))
            values["hours"] = float(weight[touching].sum())
        else:
            severity, reason = None, ""
        figures.append(samples)
        return CheckResult(check.id, instance, status_of(severity), severity, reason, limit, unit, figures), values

    def _state(self, check: Check, rule: State, thresholds: Mapping[str, float], instance: str, unit: str,
               h: Hourly, gate: tuple[Hourly, float] | None) -> tuple[CheckResult, dict[str, object]]:
        share = (h.count - h.sum) / h.count if rule.bad == 0.0 else h.sum / h.count
        share = np.clip(share, 0.0, 1.0)
        if gate is not None:
            companion, wanted = gate
            if companion.constant:
                share = share if companion.min[0] == wanted else np.zeros_like(share)
            else:
                held = companion.hour[(companion.min == wanted) & (companion.max == wanted)]
                share = np.where(np.isin(h.hour, held), share, 0.0)
        bad = share > 0
        # A constant series is one summary row standing for all its hours (data.constant_series): one episode if bad.
        bad_s = float((share * 3600.0 * h.weight()).sum())
        episodes = int(np.count_nonzero(bad[1:] & ~bad[:-1]) + (1 if len(bad) and bad[0] else 0))
        first = int(h.hour[int(np.argmax(bad))]) if bad.any() else 0
        for_s = thresholds.get(rule.for_, 0.0) if rule.for_ else 0.0
        figures = [Figure("bad_time", round(bad_s), "s", first), Figure("episodes", float(episodes)),
                   Figure("samples", float(h.count.sum()))]
        values: dict[str, object] = {"value": bad_s, "threshold": rule.bad, "minutes": bad_s / 60, "first_at": self.when(first) if first else "",
                                     "for_min": for_s / 60}
        if bad_s > 0 and bad_s >= max(for_s, 1.0):
            severity, reason = check.severity, "state"
        elif bad_s > 0:
            severity, reason = "info", "brief"
        else:
            severity, reason = None, ""
        return CheckResult(check.id, instance, status_of(severity), severity, reason, None, unit, figures), values

    def _restarts(self, check: Check, instance: str, unit: str, h: Hourly, before: Hourly,
                  uptime: bool) -> tuple[CheckResult, dict[str, object]]:
        assert h.last is not None and h.last_ts is not None, "restarts need `last` (data.hourly with_last)"
        hours = np.concatenate([before.hour, h.hour])
        last = np.concatenate([before.last if before.last is not None else [], h.last])
        minimum = np.concatenate([before.min, h.min])
        last_ts = np.concatenate([before.last_ts if before.last_ts is not None else np.array([], dtype=np.int64), h.last_ts])
        found: list[tuple[int, float]] = []          # (boot ms, uptime seen after it)
        if uptime:
            boots = last_ts - (last * 1000).astype(np.int64)
            jumps = np.diff(boots)
            wrap = np.abs(jumps - TIMETICKS_WRAP_S * 1000) < BOOT_SLACK_MS
            for i in np.flatnonzero((jumps > BOOT_SLACK_MS) & ~wrap) + 1:
                found.append((int(boots[i]), float(minimum[i])))
        else:
            for i in np.flatnonzero((np.diff(last) < 0)) + 1:
                found.append((int(hours[i]), float(last[i])))
        found = [f for f in found if self.start_ms <= f[0] < self.until_ms]
        figures = [Figure("restarts", float(len(found)), "", found[0][0] if found else 0)]
        values: dict[str, object] = {"value": found[-1][1] if found else 0.0}
        if found:
            figures.append(Figure("uptime_after", found[-1][1], "s", found[-1][0]))
            figures += [Figure("restart_at", 0.0, "", boot) for boot, _ in found[1:6]]
        figures.append(Figure("samples", float(h.count.sum())))
        severity = check.severity if found else None
        return (CheckResult(check.id, instance, status_of(severity), severity, "restart" if found else "", None, unit, figures),
                values)

    def _rise(self, check: Check, thresholds: Mapping[str, float], instance: str, unit: str, h: Hourly,
              before: Hourly) -> tuple[CheckResult, dict[str, object]]:
        assert h.last is not None, "running totals need `last` (data.hourly with_last)"
        if len(before) and before.last is not None:
            steps = np.diff(np.concatenate([before.last[-1:], h.last]))
            rises = np.where(steps >= 0, steps, h.last)
        else:
            # No earlier hour: the first hour's growth is what its max added over its min.
            steps = np.diff(h.last)
            rises = np.concatenate([h.max[:1] - h.min[:1], np.where(steps >= 0, steps, h.last[1:])])
        total = float(rises.sum())
        limit = thresholds[check.rule.threshold]  # type: ignore[attr-defined]
        grew = rises > limit
        first = int(h.hour[int(np.argmax(grew))]) if grew.any() else 0
        figures = [Figure("rise", total, unit, first), Figure("hours_rising", float(grew.sum()), "h"),
                   Figure("samples", float(h.count.sum()))]
        severity = check.severity if total > limit else None
        return (CheckResult(check.id, instance, status_of(severity), severity, "rise" if severity else "", limit, unit, figures),
                {"value": total, "threshold": limit})

    def _gaps(self, check: Check, instance: str, unit: str, h: Hourly) -> tuple[CheckResult, dict[str, object]]:
        expected = (int(h.hour[-1]) - int(h.hour[0])) // HOUR_MS + 1
        missing = expected - len(h)
        first = 0
        if missing:
            gaps = np.flatnonzero(np.diff(h.hour) > HOUR_MS)
            first = int(h.hour[gaps[0]]) + HOUR_MS
        figures = [Figure("missing_hours", float(missing), "h", first), Figure("samples", float(h.count.sum()))]
        severity = check.severity if missing else None
        return (CheckResult(check.id, instance, status_of(severity), severity, "gap" if missing else "", None, unit, figures),
                {"value": float(missing)})

    def _forecast(self, check: Check, thresholds: Mapping[str, float], instance: str, unit: str,
                  history: Hourly) -> tuple[CheckResult, dict[str, object]]:
        fed = history.within(0, self.until_ms)
        complete = fed.hour + HOUR_MS <= self.until_ms
        fed = Hourly(fed.hour[complete], fed.count[complete], fed.sum[complete], fed.min[complete], fed.max[complete], None, None)
        if not len(fed):
            return CheckResult(check.id, instance, "nodata", None, "", None, unit, [Figure("samples", 0.0)]), {}
        replay = forecast.replay(fed.hour, fed.mean, thresholds)
        fires = [f for f in replay.fires if f[0] >= self.start_ms]
        days = replay.days_left
        limit = thresholds["threshold"]
        figures = []
        if days is not None and math.isfinite(days):
            figures.append(Figure("days_left", days, "d", int(fed.hour[-1])))
        figures.append(Figure("fires", float(len(fires)), "", fires[0][0] if fires else 0))
        figures.append(Figure("samples", float(fed.count.sum())))
        values: dict[str, object] = {
            "value": days if days is not None and math.isfinite(days) else 0.0, "threshold": limit,
            "horizon_days": thresholds["horizon"] / 86400, "fires": float(len(fires)),
            "first_at": self.when(fires[0][0]) if fires else "",
            "days_text": _days_en(days), "days_text_zh": _days_zh(days),
        }
        if replay.firing:
            severity, reason = check.severity, "forecast"
        elif fires:
            severity, reason = "info", "forecast_earlier"
        else:
            severity, reason = None, ""
        return CheckResult(check.id, instance, status_of(severity), severity, reason, limit, unit, figures), values

    def _judge_events(self, check: Check, device: DeviceRow,
                      events: Sequence[Row]) -> list[tuple[CheckResult, dict[str, object]]]:
        rule = check.rule
        assert isinstance(rule, OnEvent)
        by_instance: dict[str, list[Row]] = defaultdict(list)
        for event in events:
            if event.source != check.applies.metric or event.name not in rule.fires:
                continue
            try:
                attributes = json.loads(event.attributes or "{}")
            except ValueError:
                attributes = {}
            by_instance[check.applies.instance_of({str(k): str(v) for k, v in attributes.items()})].append(event)
        if not by_instance:
            return [(CheckResult(check.id, "", "pass", None, "", None, "", [Figure("events", 0.0)]), {})]
        found = []
        for instance, fired in sorted(by_instance.items()):
            figures = [Figure("events", float(len(fired)), "", fired[0].at_ms)]
            if len(fired) > 1:
                figures.append(Figure("last_event", 0.0, "", fired[-1].at_ms))
            found.append((CheckResult(check.id, instance, status_of(check.severity), check.severity, "event", None, "", figures),
                          {"value": float(len(fired)), "message": fired[0].message}))
        return found

    def _merge_incidents(self, device: DeviceRow, incidents: Sequence[Row], results: dict[tuple[str, str], CheckResult],
                         context: dict[tuple[str, str], dict[str, object]]) -> None:
        for incident in incidents:
            check = self.library.get(incident.check_id)
            key = (incident.check_id, incident.instance)
            result = results.get(key)
            if result is None:
                unit = unit_of(check.applies.metric) if check else ""
                result = results[key] = CheckResult(incident.check_id, incident.instance, "pass", None, "", incident.threshold, unit, [])
                context[key] = {**(check.thresholds if check else {}), "value": incident.value or 0.0,
                                "threshold": incident.threshold or 0.0}
            context[key].setdefault("value", incident.value or 0.0)
            context[key].setdefault("threshold", incident.threshold or 0.0)
            result.incidents.append(int(incident.incident_id))
            severity = incident.severity
            if SEVERITY_RANK.get(severity, 0) > SEVERITY_RANK.get(result.severity or "", -1):
                result.severity, result.reason = severity, "incident"
                result.status = status_of(severity)
                if incident.value is not None:
                    context[key]["value"] = incident.value
        for result in results.values():
            if result.incidents:
                first = min((i for i in incidents if i.incident_id in result.incidents), key=lambda i: i.happened_ms)
                result.figures.insert(len([f for f in result.figures if f.name != "samples"]),
                                      Figure("incidents", float(len(result.incidents)), "", int(first.happened_ms)))

    # ------------------------------------------------------------ findings

    def _finding(self, device: DeviceRow, result: CheckResult, values: Mapping[str, object]) -> Finding:
        check = self.library.get(result.check_id)
        where = instance_text(result.instance)
        fill: dict[str, object] = {**values, "device": device.name, "instance": where or device.name,
                                   "instance_sp": f"{where} " if where else ""}
        fill.setdefault("for_min", float(values.get("for", 0.0)) / 60)  # type: ignore[arg-type]
        text = {"near": NEAR_BELOW if result.figure("p5") else NEAR, "brief": BRIEF_STATE if result.figure("bad_time") else BRIEF,
                "forecast_earlier": FORECAST_EARLIER}.get(result.reason)
        if check is None:
            title, advice = Text(result.check_id, result.check_id), Text("", "")
            analysis = text.render(**fill) if text else Text("", "")
        else:
            title, advice = check.title, check.advice.render(**fill)
            analysis = (text or check.analysis).render(**fill)
        evidence = [f for f in result.figures if f.name != "samples" and (f.value or f.at_ms)]
        return Finding(result.check_id, result.instance, result.severity or "info", result.status, result.reason,
                       title.en, title.zh, analysis.en, analysis.zh, advice.en, advice.zh, evidence, list(result.incidents))


def score(findings: Sequence[Finding]) -> float:
    """100 less, for each check with findings, the penalty of its worst finding's severity."""
    worst: dict[str, str] = {}
    for finding in findings:
        worst[finding.check_id] = worse(worst.get(finding.check_id), finding.severity) or finding.severity
    return max(0.0, 100.0 - sum(PENALTY[s] for s in worst.values()))


def _rank(result: CheckResult) -> tuple[int, int]:
    return (SEVERITY_RANK[result.severity] if result.severity else -1, 0 if result.status == "nodata" else 1)


def _days_en(days: float | None) -> str:
    if days is None or not math.isfinite(days):
        return "not growing"
    return f"{days:.0f} days left"


def _days_zh(days: float | None) -> str:
    if days is None or not math.isfinite(days):
        return "未见增长"
    return f"约 {days:.0f} 天后写满"
