"""What a check is: the uniform interface every module in `checks/` fills in.

A check is data plus one rule. The data says what it reads (`Applies`), how
bad it is, what to tell the engineer and the customer (`Text`, Chinese and
English, because the same words go into incidents and inspection reports),
its default thresholds, and which diagnostic playbook to run when it fires.
The rule (`checks.rules`) says how a series' points turn into "firing" and
"recovered". Nothing here touches storage or the network, so a check is
tested with a list of points.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from checks.rules import Rule

Severity = Literal["info", "warning", "minor", "major", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "minor", "major", "critical")


class _Blank(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "?"


@dataclass(frozen=True, slots=True)
class Text:
    """One message in English and Chinese; `{name}` fields are filled by `render`."""

    en: str
    zh: str

    def render(self, **values: object) -> Text:
        formatter = string.Formatter()
        return Text(formatter.vformat(self.en, (), _Blank(values)), formatter.vformat(self.zh, (), _Blank(values)))


@dataclass(frozen=True, slots=True)
class Applies:
    """The series a check reads, and which of their labels tell one instance from another."""

    metric: str                                        # e.g. "disk_used_percent"
    device_kinds: frozenset[str] = frozenset()         # empty: devices of every kind
    labels: tuple[tuple[str, str], ...] = ()           # required label values, e.g. (("cpu", "cpu-total"),)
    ignore: tuple[tuple[str, str], ...] = ()           # label value patterns to skip, e.g. (("cpu", r"cpu\d+"),)
    instance: tuple[str, ...] = ()                     # labels naming the instance, e.g. ("path",)
    # Judge the points only while the same instance's other metric last read
    # this value: an interface down matters only while it is enabled
    # (("net_admin_up", 1.0)). The engine tracks that metric for the check.
    only_if: tuple[str, float] | None = None

    def matches(self, metric: str, device_kind: str, labels: Mapping[str, str]) -> bool:
        """Called once per new series (the engine caches the answer), so a regex here costs nothing per point."""
        if metric != self.metric:
            return False
        if self.device_kinds and device_kind not in self.device_kinds:
            return False
        if any(re.fullmatch(pattern, labels.get(key, "")) for key, pattern in self.ignore):
            return False
        return all(labels.get(key) == value for key, value in self.labels)

    def instance_of(self, labels: Mapping[str, str]) -> str:
        """The instance key, e.g. "interface=Gi1/0/3": the instance labels the series has, "" for none."""
        return ",".join(f"{key}={labels[key]}" for key in self.instance if labels.get(key))


@dataclass(frozen=True, slots=True)
class Check:
    id: str                                 # lower_snake_case, stable: incidents and overrides refer to it
    title: Text
    severity: Severity
    applies: Applies
    rule: Rule
    thresholds: Mapping[str, float]         # defaults; durations in seconds. Overridable per customer/site/device/instance.
    analysis: Text                          # what it means, with {value}, {threshold}, {instance}, {device} …
    advice: Text                            # what to do about it
    playbook: str | None = None             # run on the device when an incident opens
    # The playbook's parameters taken from the incident's instance labels, where the
    # names differ (`{"mount": "path"}`); a parameter named like a label needs no entry.
    playbook_params: Mapping[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = field(default=())  # for listing and reports: "capacity", "availability", "hardware" …

    def __post_init__(self) -> None:
        missing = [name for name in self.rule.threshold_names() if name not in self.thresholds]
        if missing:
            raise ValueError(f"check {self.id}: the rule uses thresholds {missing} that have no default")
