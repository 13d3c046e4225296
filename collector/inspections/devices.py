"""A device's identity, availability, trend lines and capacity outlook over the period.

* Identity: model and software version from the device's labels (`model`,
  `version`, set in the agent's config) or else its sysDescr (`snmp_info`);
  uptime is the last uptime reading of the period.
* Availability: the share of the agent's polls of the device that succeeded
  (`vigil_poll_up`: Σ sum / Σ count over the period's hours); coverage: the
  share of the period's hours with any poll result at all (an agent that was
  down leaves hours empty, which is not the device's fault).
* Trends: hourly means averaged into at most `MAX_POINTS` steps per line,
  and the highest hourly max of each step for single-line charts (CPU,
  memory), so a peak is not averaged away.
* Outlook: a least-squares line through the period's hourly means of each
  capacity series (CPU, memory, filesystems, interfaces, swap), projected to
  its check's limit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import numpy as np

from checks.rules import Above
from checks.spec import Check
from collector.inspections import forecast
from collector.inspections.data import HOUR_MS, DeviceRow, Hourly, SeriesRow
from collector.inspections.evaluate import Settings
from collector.inspections.model import Outlook, Trend, TrendLine

UP_METRIC = "vigil_poll_up"
UPTIME_METRICS = ("system_uptime_seconds", "snmp_uptime_seconds")
INFO_METRIC = "snmp_info"
TRAFFIC_METRICS = ("net_recv_bits_per_second", "net_sent_bits_per_second")
EXTRA_METRICS = (UP_METRIC, INFO_METRIC, *UPTIME_METRICS, *TRAFFIC_METRICS)
CHART_METRICS = ("cpu_usage_percent", "mem_used_percent", "disk_used_percent", "net_utilisation_percent", *TRAFFIC_METRICS)
MAX_POINTS = 90
MAX_LINES = {"cpu": 3, "memory": 3, "filesystem": 5, "interface": 4}
OUTLOOK_DAYS = 180.0
PER_CORE = re.compile(r"cpu\d+")


# ---------------------------------------------------------------- identity

_VERSION = re.compile(r"\bVersion\s+([0-9][^\s,]*(?:\s+\([^)]*\))?)", re.IGNORECASE)
_LINUX = re.compile(r"^Linux\s+\S+\s+(\S+)")
_MODEL = (
    re.compile(r"Cisco IOS Software, (\S+) Software"),           # "Cisco IOS Software, C3560 Software (…)"
    re.compile(r"\((\w+\d\w*) V\d{3}R\d{3}"),                     # Huawei/H3C "(CE6850 V200R005C10SPC800)"
    re.compile(r"^(?:H3C|Huawei|Ruijie|ZTE)\s+(\S+)", re.IGNORECASE),
)


def identity(device: DeviceRow, series: Sequence[SeriesRow], hourly: Mapping[int, Hourly]) -> tuple[str, str, float | None]:
    """(model, software, uptime seconds at the last reading)."""
    descr = ""
    newest = -1
    for s in series:
        if s.metric == INFO_METRIC and s.labels.get("sys_descr"):
            h = hourly.get(s.series_id)
            seen = int(h.hour[-1]) if h is not None and len(h) else 0
            if seen >= newest:
                descr, newest = s.labels["sys_descr"], seen
    labels = device.labels
    model = labels.get("model") or _first(_MODEL, descr) or device.platform or ""
    software = labels.get("version") or labels.get("software") or labels.get("os") or _software(descr)
    uptime, uptime_ts = None, -1
    for s in series:
        if s.metric in UPTIME_METRICS and s.series_id in hourly and len(hourly[s.series_id]):
            h = hourly[s.series_id]
            if h.last is not None and h.last_ts is not None and int(h.last_ts[-1]) > uptime_ts:
                uptime, uptime_ts = float(h.last[-1]), int(h.last_ts[-1])
    return model, software, uptime


def _first(patterns: Sequence[re.Pattern[str]], text: str) -> str:
    for pattern in patterns:
        if match := pattern.search(text):
            return match.group(1)
    return ""


def _software(descr: str) -> str:
    if match := _LINUX.search(descr):
        return f"Linux {match.group(1)}"
    if match := _VERSION.search(descr):
        return match.group(1)
    return descr[:60]


# ---------------------------------------------------------------- availability


def availability(series: Sequence[SeriesRow], hourly: Mapping[int, Hourly], start_ms: int, until_ms: int,
                 first_seen_ms: int) -> tuple[float | None, float | None]:
    """(% of polls that succeeded, % of the period's hours with poll results); None without any."""
    total = good = 0.0
    hours: set[int] = set()
    for s in series:
        if s.metric != UP_METRIC or s.series_id not in hourly:
            continue
        h = hourly[s.series_id].within(start_ms, until_ms)
        total += float(h.count.sum())
        good += float(h.sum.sum())
        hours.update(h.hour.tolist())
    if not total:
        return None, None
    begin = max(start_ms, first_seen_ms - first_seen_ms % HOUR_MS)
    expected = max(1, (until_ms - begin + HOUR_MS - 1) // HOUR_MS)
    return 100.0 * good / total, min(100.0, 100.0 * len(hours) / expected)


# ---------------------------------------------------------------- trends


def step_ms(start_ms: int, until_ms: int) -> int:
    hours = max(1, math.ceil((until_ms - start_ms) / HOUR_MS))
    return HOUR_MS * max(1, math.ceil(hours / MAX_POINTS))


def _resample(h: Hourly, start_ms: int, until_ms: int, step: int, highs: bool) -> tuple[list[float | None], list[float | None] | None]:
    n = max(1, math.ceil((until_ms - start_ms) / step))
    if not len(h):
        return [None] * n, ([None] * n if highs else None)
    index = ((h.hour - start_ms) // step).astype(np.int64)
    counts = np.bincount(index, weights=h.count, minlength=n)[:n]
    sums = np.bincount(index, weights=h.sum, minlength=n)[:n]
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    values = [None if not c else round(float(v), 3) for v, c in zip(means, counts)]
    if not highs:
        return values, None
    top = np.full(n, -np.inf)
    np.maximum.at(top, index[index < n], h.max[index < n])
    return values, [None if not math.isfinite(v) else round(float(v), 3) for v in top]


def trends(device: DeviceRow, series: Sequence[SeriesRow], hourly: Mapping[int, Hourly], start_ms: int,
           until_ms: int, limits: Mapping[str, float | None]) -> list[Trend]:
    """The device's trend charts: CPU, memory, filesystems (fullest), interfaces (busiest)."""
    step = step_ms(start_ms, until_ms)
    pick: dict[str, list[tuple[float, str, Hourly]]] = {"cpu": [], "memory": [], "filesystem": [], "interface": [], "traffic": []}
    for s in series:
        h = hourly.get(s.series_id)
        if h is None:
            continue
        h = h.within(start_ms, until_ms)
        if not len(h):
            continue
        labels = s.labels
        if s.metric == "cpu_usage_percent" and not PER_CORE.fullmatch(labels.get("cpu", "")):
            pick["cpu"].append((float(h.max.max()), labels.get("cpu", "cpu"), h))
        elif s.metric == "mem_used_percent":
            pick["memory"].append((float(h.max.max()), labels.get("pool") or labels.get("entity") or "memory", h))
        elif s.metric == "disk_used_percent":
            pick["filesystem"].append((float(h.max.max()), labels.get("path", "?"), h))
        elif s.metric == "net_utilisation_percent":
            busy = float(np.percentile(h.mean, 95))
            pick["interface"].append((busy, f"{labels.get('interface', '?')} {labels.get('direction', '')}".strip(), h))
        elif s.metric in TRAFFIC_METRICS:
            direction = "in" if s.metric == TRAFFIC_METRICS[0] else "out"
            pick["traffic"].append((float(h.sum.sum() / h.count.sum()), f"{labels.get('interface', '?')} {direction}", h))
    found: list[Trend] = []
    for kind, unit in (("cpu", "%"), ("memory", "%"), ("filesystem", "%"), ("interface", "%")):
        chosen = pick[kind]
        scale = 1.0
        if kind == "interface" and not chosen and pick["traffic"]:
            chosen, unit, scale = pick["traffic"], "Mbit/s", 1e-6
        if not chosen:
            continue
        chosen = sorted(chosen, key=lambda c: -c[0])[:MAX_LINES[kind]]
        lines = []
        for _, label, h in chosen:
            values, highs = _resample(h, start_ms, until_ms, step, highs=len(chosen) == 1)
            if scale != 1.0:
                values = [None if v is None else round(v * scale, 3) for v in values]
            lines.append(TrendLine(label, start_ms, step, values, highs))
        found.append(Trend(kind, unit, limits.get(kind) if unit == "%" else None, lines))
    return found


# ---------------------------------------------------------------- capacity outlook


def outlook(device: DeviceRow, series: Sequence[SeriesRow], hourly: Mapping[int, Hourly], start_ms: int, until_ms: int,
            capacity_checks: Sequence[Check], settings: Settings) -> list[Outlook]:
    found: list[Outlook] = []
    for s in series:
        h = hourly.get(s.series_id)
        if h is None:
            continue
        for check in capacity_checks:
            if not check.applies.matches(s.metric, device.kind, s.labels):
                continue
            enabled, thresholds = settings(check, device, s.labels)
            if not enabled:
                continue
            period = h.within(start_ms, until_ms)
            if len(period) < 24:
                continue
            limit = thresholds[check.rule.threshold]  # type: ignore[attr-defined]
            line = forecast.fit(period.hour, period.mean, limit)
            if line is None:
                continue
            days = line.eta_ms / forecast.DAY_MS
            if days > OUTLOOK_DAYS:
                continue
            found.append(Outlook(device.agent_id, device.device_id, device.name, check.id,
                                 check.applies.instance_of(s.labels), "%" if s.metric.endswith("_percent") else "",
                                 round(line.now, 2), round(line.slope_per_hour * 24, 3), limit,
                                 round(days, 1)))
    return found


def capacity_checks(library: Mapping[str, Check]) -> list[Check]:
    return [c for c in library.values() if isinstance(c.rule, Above) and "capacity" in c.tags]


def chart_limits(library: Mapping[str, Check]) -> dict[str, float | None]:
    """The default limits drawn on the charts (per-device overrides are in the status table)."""
    def limit(check_id: str) -> float | None:
        check = library.get(check_id)
        return None if check is None else check.thresholds.get("threshold")

    return {"cpu": limit("cpu_high"), "memory": limit("memory_high"), "filesystem": limit("filesystem_usage"),
            "interface": limit("interface_utilisation_high")}

