"""Threshold overrides per customer, site, device and instance, from one YAML file.

    overrides:
      - match: {customer: acme}                        # customer, site, device, or instance labels
        checks:
          cpu_high: {threshold: 95, for: 10m}
          swap_in_use: {enabled: false}
      - match: {customer: acme, device: core-sw-1, interface: Gi1/0/48}
        checks:
          interface_utilisation_high: {threshold: 95}

An entry applies when every key of its `match` equals the series': `customer`,
`site` and `device` (the Vigil device id) are the device's, any other key is
a series label (`interface`, `path`, `direction`, `sensor` …); the
filesystem label `device` cannot be matched, `path` names a filesystem.
An empty `match` applies everywhere.

Precedence: entries apply from the least specific to the most specific, each
replacing only the settings it names, so a customer-wide `threshold` and a
device's own `for` combine. An entry's specificity is the most specific key
it matches on: customer < site < device < instance label (no key: below
all). Between entries equally specific, the later one in the file wins.

The file is validated against the check library: an unknown check id, a
threshold the check does not have, or a bad duration is reported as
`file:line: field: problem`. Durations take units (`10m`, `1h`, `7d`) or
plain seconds; the other thresholds are plain numbers in the metric's unit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, create_model

from agent.configfile import Check as Validate
from agent.configfile import Duration, load_model
from checks import library
from checks.spec import Check

DEVICE_KEYS = ("customer", "site", "device")     # in increasing specificity; any other key is an instance label
_LABEL = re.compile(r"[a-z_][a-z0-9_]*")
_STRICT = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _key(value: str) -> str:
    if not _LABEL.fullmatch(value):
        raise ValueError(f"{value!r} is not customer, site, device or a label name (lower_snake_case)")
    return value


def _text(value: Any) -> Any:
    """YAML reads `interface: 48` as a number; the labels it matches are text."""
    if isinstance(value, float):   # `fan: 0.10` would read as 0.1
        raise ValueError(f"write {value!r} in quotes, so it is read as the text it matches")
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


MatchKey = Annotated[str, Validate(_key)]
MatchValue = Annotated[str, Validate(_text, before=True)]


def _settings_model(check: Check) -> type[BaseModel]:
    """`enabled` and every threshold of this check, each optional; anything else is a typo."""
    durations = set(check.rule.duration_names())
    fields: dict[str, Any] = {"enabled": (bool | None, None)}
    for name in check.thresholds:
        kind = Annotated[float, Duration] if name in durations else float   # _STRICT refuses inf and nan
        fields[name] = (kind | None, None)
    return create_model(check.id, __config__=_STRICT, **fields)


@cache
def _checks_model() -> type[BaseModel]:
    """One optional field per check id: an id not in the library is "unknown setting", at its own line."""
    fields: dict[str, Any] = {id_: (_settings_model(check) | None, None) for id_, check in library().items()}
    return create_model("checks", __config__=_STRICT, **fields)


@cache
def _file_model() -> type[BaseModel]:
    entry = create_model(
        "override", __config__=_STRICT,
        match=(dict[MatchKey, MatchValue], ...),
        checks=(_checks_model(), ...),
    )
    return create_model("overrides_file", __config__=_STRICT, overrides=(tuple[entry, ...], ()))  # type: ignore[valid-type]


@dataclass(frozen=True, slots=True)
class Override:
    """One entry's settings for one check."""

    specificity: int                        # 0 nothing, 1 customer, 2 site, 3 device, 4 instance label
    order: int                              # the entry's place in the file
    match: tuple[tuple[str, str], ...]
    enabled: bool | None
    thresholds: Mapping[str, float]

    def applies(self, customer: str, site: str, device: str, labels: Mapping[str, str]) -> bool:
        for key, value in self.match:
            if key == "customer":
                actual: str | None = customer
            elif key == "site":
                actual = site
            elif key == "device":
                actual = device
            else:
                actual = labels.get(key)
            if actual != value:
                return False
        return True


def _specificity(match: Mapping[str, str]) -> int:
    if any(key not in DEVICE_KEYS for key in match):
        return len(DEVICE_KEYS) + 1
    return max((DEVICE_KEYS.index(key) + 1 for key in match), default=0)


@dataclass(frozen=True, slots=True)
class Overrides:
    """The overrides of one file, indexed by check id, each list in the order it is applied."""

    by_check: Mapping[str, tuple[Override, ...]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> Overrides:
        """Read and validate `path`; raises `ConfigError` naming every problem's file and line."""
        parsed = load_model(path, _file_model())
        found: dict[str, list[Override]] = {}
        for order, item in enumerate(parsed.overrides):  # type: ignore[attr-defined]
            match = tuple(sorted(item.match.items()))
            for check_id, settings in item.checks:
                if settings is not None:
                    values = settings.model_dump(exclude_none=True)
                    enabled = values.pop("enabled", None)
                    found.setdefault(check_id, []).append(
                        Override(_specificity(item.match), order, match, enabled, values))
        return cls({check_id: tuple(sorted(entries, key=lambda o: (o.specificity, o.order)))
                    for check_id, entries in found.items()})

    def effective(self, check: Check, customer: str, site: str, device: str,
                  labels: Mapping[str, str]) -> tuple[bool, dict[str, float]]:
        """Whether `check` runs on this series, and with which thresholds: its defaults, overridden."""
        enabled, thresholds = True, dict(check.thresholds)
        for entry in self.by_check.get(check.id, ()):
            if entry.applies(customer, site, device, labels):
                if entry.enabled is not None:
                    enabled = entry.enabled
                thresholds.update(entry.thresholds)
        return enabled, thresholds
