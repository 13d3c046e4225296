"""What an inspection found, as plain data: figures, never words in one language.

The inspection (`run.py`) fills these in; reports (`collector/reports/`)
turn them into Chinese or English. The whole `Inspection` is stored with
the run (gzip'd JSON), so a report can be rendered again, in the other
language, years later, and the next inspection can say what changed.

Every number a report prints comes from here, with its unit and, where it
has one, the time it happened: a finding without such evidence cannot be
made (`Finding.__post_init__`).
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any

SEVERITY_RANK = {"info": 0, "warning": 1, "minor": 2, "major": 3, "critical": 4}
STATUS_RANK = {"nodata": 0, "pass": 1, "warn": 2, "fail": 3}


def status_of(severity: str | None) -> str:
    """A check run's status from its finding: none or a note (info) → pass, warning → warn, minor and worse → fail."""
    if severity is None or severity == "info":
        return "pass"
    return "fail" if SEVERITY_RANK[severity] >= SEVERITY_RANK["minor"] else "warn"


@dataclass(slots=True)
class Figure:
    """One measured fact: `name` says what it is (reports translate it), `unit` how to read `value`."""

    name: str            # peak | low | p95 | p5 | mean | hours_above | hours_below | hours_touching | bad_time | episodes
                         # | restarts | uptime_after | events | rise | missing_hours | days_left | slope | incidents | samples
    value: float
    unit: str = ""       # "%", "°C", "s", "h", "d", "/s", "bit/s", "" …
    at_ms: int = 0       # when it happened (peak hour, first event …); 0: not a moment


@dataclass(slots=True)
class CheckResult:
    """One check on one instance of one device over the period."""

    check_id: str
    instance: str                  # "path=/var", "" for a device-wide check
    status: str                    # pass | warn | fail | nodata
    severity: str | None           # the finding's severity, None when it passed
    reason: str                    # what decided it: sustained | brief | near | state | restart | event | rise | gap | forecast | incident | ""
    threshold: float | None
    unit: str
    figures: list[Figure] = field(default_factory=list)
    incidents: list[int] = field(default_factory=list)

    def figure(self, name: str) -> Figure | None:
        return next((f for f in self.figures if f.name == name), None)


@dataclass(slots=True)
class Finding:
    """Something the customer should know about one device, with the evidence, the analysis and what to do."""

    check_id: str
    instance: str
    severity: str
    status: str
    reason: str
    title_en: str
    title_zh: str
    analysis_en: str
    analysis_zh: str
    advice_en: str
    advice_zh: str
    evidence: list[Figure]
    incidents: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.evidence:
            raise ValueError(f"finding {self.check_id} {self.instance!r} has no evidence: a finding must cite figures")

    @property
    def key(self) -> str:
        return f"{self.check_id}|{self.instance}"


@dataclass(slots=True)
class TrendLine:
    label: str                     # "cpu-total", "/var", "Gi1/0/3 in"
    start_ms: int
    step_ms: int
    values: list[float | None]     # the mean of each step; None where there was no data
    highs: list[float | None] | None = None   # the highest hourly max of each step (single-line charts)


@dataclass(slots=True)
class Trend:
    kind: str                      # cpu | memory | filesystem | interface
    unit: str
    threshold: float | None
    lines: list[TrendLine]


@dataclass(slots=True)
class Diagnosis:
    """The live diagnosis excerpt (a health playbook run now on the device)."""

    playbook: str
    ran_ms: int
    status: str
    summary_en: str
    summary_zh: str
    excerpt: str                   # the output, shortened


@dataclass(slots=True)
class DeviceResult:
    agent_id: str
    device_id: str
    name: str
    kind: str
    platform: str
    site: str
    address: str
    model: str
    software: str
    uptime_s: float | None         # at the end of the period (or the last reading in it)
    first_seen_ms: int
    last_seen_ms: int
    availability: float | None     # % of polls that succeeded over the period
    coverage: float | None         # % of the period's hours with data
    score: float
    checks: list[CheckResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    trends: list[Trend] = field(default_factory=list)
    diagnosis: Diagnosis | None = None

    @property
    def key(self) -> str:
        return f"{self.agent_id}/{self.device_id}"


@dataclass(slots=True)
class IncidentFigure:
    incident_id: int
    agent_id: str
    device_id: str
    site: str
    check_id: str
    instance: str
    severity: str
    status: str
    title_en: str
    title_zh: str
    happened_ms: int
    seen_ms: int
    acknowledged_ms: int
    plan_ms: int
    resolved_ms: int
    covered: bool                   # the SLA policy applies to it
    response_ms: int | None         # contract time to the response (or until now, while running)
    response_state: str             # met | breached | on_track | at_risk | ""
    plan_elapsed_ms: int | None
    plan_state: str


@dataclass(slots=True)
class ClockFigures:
    target_ms: int
    met: int
    missed: int
    running: int
    mean_ms: float | None
    p90_ms: int | None

    @property
    def percent(self) -> float | None:
        judged = self.met + self.missed
        return 100.0 * self.met / judged if judged else None


@dataclass(slots=True)
class ServiceFigures:
    calendar: str                   # "24x7" or the business hours
    severities: list[str]           # incidents the SLA targets apply to
    response: ClockFigures
    plan: ClockFigures
    not_covered: int

    @property
    def compliance(self) -> float | None:
        """Both clocks together: met / judged over every clock."""
        met = self.response.met + self.plan.met
        judged = met + self.response.missed + self.plan.missed
        return 100.0 * met / judged if judged else None


@dataclass(slots=True)
class SiteFigures:
    site: str
    devices: int
    availability: float | None      # mean of its devices' availability
    incidents: int
    findings: int


@dataclass(slots=True)
class Outlook:
    """A capacity forecast: the period's trend of one series, projected to its limit."""

    agent_id: str
    device_id: str
    device_name: str
    check_id: str
    instance: str
    unit: str
    current: float                  # the fitted line at the end of the period
    slope_per_day: float
    limit: float
    days_left: float | None         # None: not growing towards the limit


@dataclass(slots=True)
class Changes:
    """What changed since the previous inspection of the same customer."""

    previous_number: str
    previous_period: str
    previous_score: float | None
    devices_added: list[str]
    devices_removed: list[str]
    new_findings: list[str]         # "device|check|instance"
    resolved_findings: list[str]
    persisting_findings: list[str]


@dataclass(slots=True)
class Inspection:
    customer: str
    display_name: str
    provider: str
    number: str
    period_label: str
    start_ms: int
    end_ms: int                     # exclusive
    timezone: str
    generated_ms: int
    sites: list[SiteFigures]
    devices: list[DeviceResult]
    incidents: list[IncidentFigure]
    service: ServiceFigures
    outlook: list[Outlook]
    score: float | None
    changes: Changes | None = None
    penalties: dict[str, float] = field(default_factory=dict)   # how the score is computed (severity → points)

    def to_json(self) -> bytes:
        return gzip.compress(json.dumps(dataclasses.asdict(self), ensure_ascii=False, separators=(",", ":")).encode(), 6)

    @classmethod
    def from_json(cls, data: bytes) -> Inspection:
        return _load(cls, json.loads(gzip.decompress(data)))


def _load(kind: Any, value: Any) -> Any:
    """Rebuild dataclasses from `asdict` output, following the type hints."""
    if value is None:
        return None
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        return _load(options[0], value) if len(options) == 1 else value
    if origin is list:
        (item,) = typing.get_args(kind)
        return [_load(item, v) for v in value]
    if origin is dict:
        _, item = typing.get_args(kind)
        return {k: _load(item, v) for k, v in value.items()}
    if dataclasses.is_dataclass(kind):
        hints = _hints(kind)
        return kind(**{f.name: _load(hints[f.name], value[f.name]) for f in dataclasses.fields(kind) if f.name in value})
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(kind: type) -> dict[str, Any]:
    if kind not in _HINTS:
        _HINTS[kind] = typing.get_type_hints(kind)
    return _HINTS[kind]
