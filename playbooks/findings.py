"""Findings: rules over a step's parsed rows, and the `Finding` a matching row produces.

A rule holds when every one of its conditions holds for a row. Numeric
conditions read the field as a number (`"95%"` → 95, `"1000000 Kbit"` →
1000000); a field that is empty, or not a number for a numeric condition,
never satisfies a condition (except `equals: ""`), so a template that did
not capture a value never raises a finding by accident.

By default every matching row is a finding (one per interface, per failed
unit). `once: first|last` reports one row of the matches instead, and the
text may say how many matched with `{matched}`: for a log, a process table,
or rows that repeat a device-wide value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from agent.configfile import Check
from playbooks import scope
from playbooks.params import Platform
from playbooks.parsing import FIELD, number
from playbooks.text import FORBID_UNKNOWN, Text

Severity = Literal["info", "warning", "minor", "major", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "minor", "major", "critical")  # == checks.spec.SEVERITIES
_NUMERIC = ("above", "below", "at_least", "at_most")
_OPERATORS = (*_NUMERIC, "equals", "matches", "one_of", "not_in")


def _regex(pattern: str | None) -> str | None:
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
    return pattern


def _field(name: str) -> str:
    if not FIELD.fullmatch(name):
        raise ValueError(f"{name!r} is not a field name (lower-case letters, digits and _)")
    return name


FieldName = Annotated[str, Check(_field)]


@dataclass(frozen=True, kw_only=True)
class Condition:
    """`{field: crc, above: 0}`: exactly one comparison of one field."""

    __pydantic_config__ = FORBID_UNKNOWN
    field: FieldName
    above: float | None = None
    below: float | None = None
    at_least: float | None = None
    at_most: float | None = None
    equals: str | float | None = None           # a number compares as a number, text as exact text
    matches: Annotated[str | None, Check(_regex)] = None   # re.search
    one_of: tuple[str, ...] | None = None
    not_in: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        given = [name for name in _OPERATORS if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(_OPERATORS)} (got {', '.join(given) or 'none'})")

    def holds(self, row: Mapping[str, str]) -> bool:
        value = row.get(self.field, "").strip()
        if self.equals is not None:
            if isinstance(self.equals, str):
                return value == self.equals
            found = number(value)
            return found is not None and found == self.equals
        if not value:
            return False
        if self.matches is not None:
            return re.search(self.matches, value) is not None
        if self.one_of is not None:
            return value in self.one_of
        if self.not_in is not None:
            return value not in self.not_in
        found = number(value)
        if found is None:
            return False
        if self.above is not None:
            return found > self.above
        if self.below is not None:
            return found < self.below
        if self.at_least is not None:
            return found >= self.at_least
        assert self.at_most is not None
        return found <= self.at_most


def _conditions(raw: Any) -> Any:
    return [raw] if isinstance(raw, Mapping) else raw


@dataclass(frozen=True, kw_only=True)
class Rule:
    __pydantic_config__ = FORBID_UNKNOWN
    when: Annotated[tuple[Condition, ...], Check(_conditions, before=True)]
    severity: Severity
    title: Text
    explanation: Text
    advice: Text
    once: Literal["first", "last"] | None = None
    platforms: tuple[Platform, ...] = ()            # default: every platform the step has a parser for
    evidence: tuple[FieldName, ...] = ()            # more fields to record beside those the rule names
    reports: tuple[str, ...] = field(init=False, default=())  # the fields a finding records, in order

    def __post_init__(self) -> None:
        if not self.when:
            raise ValueError("when: give at least one condition")
        where: dict[str, str] = {}  # each field the rule names → where it first names it
        for index, condition in enumerate(self.when):
            where.setdefault(condition.field, f"when[{index}].field")
        for key in ("title", "explanation", "advice"):
            for name in sorted(getattr(self, key).names()):
                where.setdefault(name, f"{key}: {{{name}}}")
        for index, name in enumerate(self.evidence):
            where.setdefault(name, f"evidence[{index}]")
        if "matched" in where and self.once is None:
            raise ValueError(f"{where['matched']}: counts the rows a rule with `once` matched; this rule has no `once`")
        where.pop("matched", None)
        reports = tuple(where)
        object.__setattr__(self, "reports", reports)
        parsers = scope.current().step_parsers
        if parsers is None:  # the step's `parse` is invalid and already reported
            return
        if not parsers:
            raise ValueError("this step has no `parse`, so there are no rows for a finding to look at")
        applies = self.platforms or tuple(parsers)
        for platform in applies:
            parser = parsers.get(platform)
            if parser is None:
                raise ValueError(f"platforms: the step parses no output on {platform}")
            for name in reports:
                if name not in parser.fields:
                    source = parser.template or Path(parser.path).name
                    raise ValueError(
                        f"{where[name]}: {name} is not a field of the {platform} parser ({source}); "
                        f"it has: {', '.join(parser.fields)}"
                    )

    def applies_to(self, platform: str, parsed_on: Sequence[str]) -> bool:
        return platform in (self.platforms or parsed_on)

    def evaluate(self, step: str, rows: Sequence[Mapping[str, str]]) -> list[Finding]:
        matching = [row for row in rows if all(c.holds(row) for c in self.when)]
        if not matching:
            return []
        chosen = matching if self.once is None else [matching[0] if self.once == "first" else matching[-1]]
        findings = []
        seen: set[tuple[str, ...]] = set()
        for row in chosen:
            evidence = {name: row.get(name, "") for name in self.reports}
            key = tuple(evidence.values())
            if key in seen:  # rows that repeat a device-wide value (filled down) say it once
                continue
            seen.add(key)
            values = dict(evidence)
            if self.once is not None:
                evidence["matched"] = values["matched"] = str(len(matching))
            findings.append(
                Finding(
                    step=step,
                    severity=self.severity,
                    title=self.title.render(values),
                    explanation=self.explanation.render(values),
                    advice=self.advice.render(values),
                    evidence=evidence,
                )
            )
        return findings


@dataclass(frozen=True)
class Finding:
    """What a diagnosis found: how bad, what it means, what to do, and the row values that show it."""

    step: str
    severity: Severity
    title: Text
    explanation: Text
    advice: Text
    evidence: Mapping[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "severity": self.severity,
            "title": self.title.to_dict(),
            "explanation": self.explanation.to_dict(),
            "advice": self.advice.to_dict(),
            "evidence": dict(self.evidence),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        if data["severity"] not in SEVERITIES:
            raise ValueError(f"unknown severity {data['severity']!r}")
        return cls(
            step=str(data["step"]),
            severity=data["severity"],
            title=Text(**data["title"]),
            explanation=Text(**data["explanation"]),
            advice=Text(**data["advice"]),
            evidence={str(k): str(v) for k, v in data["evidence"].items()},
        )
