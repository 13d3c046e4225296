"""A network device's CLI output → Vigil samples, as its platform's polling definition says.

One `CliExtractor` per device, because a rate needs the device's previous
poll. Each command's output is parsed by its TextFSM template into rows of
text fields; a field that reads as a number ("45%", "1,024", "1000000 Kbit")
is a number in expressions, anything else stays text. A row then gives
metrics the way an SNMP profile's table row does (`agent.pollers.snmp.extract`),
so the two pollers agree on what `gauge`, `rate`, `state` and `expr` mean:

* counters become rates with `agent.rates.CounterRates` (64 bits wide: a CLI
  prints the whole counter, so a counter that went down was cleared, and that
  interval gives no rate); a row whose `discontinuity` field changed (IOS'
  "Last clearing of counters") gives no rate either;
* an empty field, a failed `where` or `match`, or a division by zero gives no
  sample, never an error: one odd line must not cost a poll;
* two rows that would give the same series (fill-down templates repeat the
  CPU figures on every process row) give it once, from the first row.

Compiled templates are kept per file and reset before each use (textfsm
compiles a template in about a millisecond; a 50-switch site would pay that
hundreds of times per round). textfsm is imported when the first CLI device
is polled.
"""

from __future__ import annotations

import math
import re
import string
from dataclasses import dataclass
from types import CodeType
from typing import Any

from agent.pollers.snmp.profiles import RATE_PREFIX, compile_expression, expression_inputs
from agent.pollers.ssh.model import CliCommand, CliMetric, Definition
from agent.rates import CounterRates
from agent.samples import Labels, Sample
from playbooks.parsing import number   # "95%", "1,024", "1000000 Kbit" → a float, as the playbooks read them

MAX_LABEL = 200
_NO_BUILTINS: dict[str, object] = {"__builtins__": {}}
_EVAL_ERRORS = (TypeError, ValueError, ZeroDivisionError, OverflowError, NameError)
_CONTROL = {c: None for c in (*range(0x20), 0x7F)}
_GAUGE, _RATE, _STATE, _EXPR = range(4)

# Cisco IOS ifName is the short form of the name `show interfaces` prints (IF-MIB ifName "Gi1/0/1",
# ifDescr "GigabitEthernet1/0/1"); the SNMP profile labels interfaces by ifName.
_IOS_SHORT = (
    ("TwentyFiveGigE", "Twe"), ("HundredGigE", "Hu"), ("FortyGigabitEthernet", "Fo"), ("TenGigabitEthernet", "Te"),
    ("TwoGigabitEthernet", "Tw"), ("FiveGigabitEthernet", "Fi"), ("AppGigabitEthernet", "Ap"),
    ("GigabitEthernet", "Gi"), ("FastEthernet", "Fa"), ("Ethernet", "Et"), ("Port-channel", "Po"), ("Vlan", "Vl"),
    ("Loopback", "Lo"), ("Tunnel", "Tu"), ("Serial", "Se"), ("Null", "Nu"), ("Dialer", "Di"), ("Virtual-Access", "Vi"),
    ("Virtual-Template", "Vt"), ("Cellular", "Ce"), ("Multilink", "Mu"),
)


def ios_short_name(name: str) -> str:
    for long, short in _IOS_SHORT:
        if name.startswith(long) and name[len(long):len(long) + 1].isdigit():
            return short + name[len(long):]
    return name


def _filter(value: str, spec: str) -> str:
    if spec == "ifname":
        return ios_short_name(value)
    if spec == "digits":
        return "".join(c for c in value if c.isdigit() or c == ".").strip(".")
    if spec == "lower":
        return value.lower()
    return value


# ---------------------------------------------------------------- templates

_FSMS: dict[str, Any] = {}


def parse(path: str, output: str) -> list[dict[str, str]]:
    """Rows of `output` parsed by the template at `path` (keys: Value names in lower case)."""
    fsm = _FSMS.get(path)
    if fsm is None:
        import io

        import textfsm

        with open(path, encoding="utf-8") as source:
            fsm = _FSMS[path] = textfsm.TextFSM(io.StringIO(source.read()))
    fsm.Reset()
    header = [name.lower() for name in fsm.header]
    rows = []
    for record in fsm.ParseText(output.replace("\r\n", "\n")):
        rows.append({name: ", ".join(v) if isinstance(v, list) else ("" if v is None else str(v))
                     for name, v in zip(header, record)})
    return rows


# ---------------------------------------------------------------- plans


@dataclass(slots=True)
class _Formula:
    needs: frozenset[str]
    rate_keys: tuple[str, ...]
    code: CodeType


def _formula(text: str) -> _Formula:
    values, rates = expression_inputs(text)
    return _Formula(values | rates, tuple(RATE_PREFIX + r for r in sorted(rates)), compile_expression(text))


@dataclass(slots=True)
class _MetricPlan:
    name: str
    kind: int
    column: str
    scale: float
    mapping: dict[str, float | None]
    default: float | None
    formulas: tuple[_Formula, ...]
    where: _Formula | None
    match: tuple[tuple[str, re.Pattern[str]], ...]
    labels: Labels
    relabel: dict[str, str | None]


@dataclass(slots=True)
class _LabelSource:
    field: str                    # a plain field, or "" for a template
    parts: tuple[tuple[str, str, str], ...]   # (literal, field, filter) of a template


@dataclass(slots=True)
class _CommandPlan:
    name: str
    command: CliCommand
    labels: tuple[tuple[str, tuple[_LabelSource, ...]], ...]
    rates: tuple[str, ...]        # fields read as rates
    metrics: tuple[_MetricPlan, ...]


def _metric_plan(metric: CliMetric) -> _MetricPlan:
    if metric.gauge is not None:
        kind, column = _GAUGE, metric.gauge
    elif metric.rate is not None:
        kind, column = _RATE, RATE_PREFIX + metric.rate
    elif metric.state is not None:
        kind, column = _STATE, metric.state
    else:
        kind, column = _EXPR, ""
    return _MetricPlan(
        name=metric.metric, kind=kind, column=column, scale=metric.scale, mapping=dict(metric.map),
        default=metric.default, formulas=tuple(_formula(t) for t in metric.expr),
        where=_formula(metric.where) if metric.where else None,
        match=tuple((name, re.compile(pattern)) for name, pattern in metric.match.items()),
        labels=tuple(sorted(metric.labels.items())), relabel=dict(metric.relabel),
    )


def _label_source(text: str) -> _LabelSource:
    if "{" not in text:
        return _LabelSource(text, ())
    return _LabelSource("", tuple((literal, name or "", spec or "")
                                  for literal, name, spec, _ in string.Formatter().parse(text)))


def _command_plan(name: str, command: CliCommand) -> _CommandPlan:
    rates: set[str] = set()
    for metric in command.metrics:
        rates |= metric.inputs[1]
    return _CommandPlan(
        name=name, command=command,
        labels=tuple(sorted((key, tuple(_label_source(s) for s in sources)) for key, sources in command.labels.items())),
        rates=tuple(sorted(rates)), metrics=tuple(_metric_plan(m) for m in command.metrics),
    )


# ---------------------------------------------------------------- the extractor


class CliExtractor:
    """Turns one device's command outputs into samples; keeps its counters between polls."""

    def __init__(self, definition: Definition) -> None:
        self.definition = definition
        self.plans = tuple(_command_plan(name, command) for name, command in definition.commands.items())
        self._rates = CounterRates()
        self._cleared: dict[tuple[str, Labels], str] = {}
        self._merged: dict[tuple[Labels, int], Labels] = {}

    def extract(self, plan: _CommandPlan, output: str, at_s: float, out: list[Sample], seen: set[tuple[str, Labels]]) -> int:
        """Append the samples of one command's `output`; the number of rows parsed."""
        rows = parse(plan.command.path, output)
        rate = self._rates.rate
        discontinuity = plan.command.discontinuity
        for row in rows:
            labels = self._labels(plan, row)
            ns: dict[str, object] = {}
            for key, text in row.items():
                if text:
                    value = number(text)
                    ns[key] = text if value is None else value
            reset = False
            if discontinuity:
                mark = row.get(discontinuity, "")
                before = self._cleared.get((plan.name, labels))
                self._cleared[(plan.name, labels)] = mark
                reset = before is not None and before != mark
            for field_name in plan.rates:
                counter = ns.get(field_name)
                if type(counter) is float and counter >= 0 and counter.is_integer():
                    per_second = rate((plan.name, labels, field_name), int(counter), at_s, 64)
                    ns[RATE_PREFIX + field_name] = None if reset else per_second
            for metric in plan.metrics:
                value = self._value(metric, ns, row)
                if value is None:
                    continue
                series = self._metric_labels(labels, metric) if metric.labels or metric.relabel else labels
                key = (metric.name, series)
                if key in seen:
                    continue
                seen.add(key)
                out.append((metric.name, series, value))
        return len(rows)

    def _labels(self, plan: _CommandPlan, row: dict[str, str]) -> Labels:
        pairs = []
        for key, sources in plan.labels:
            for source in sources:
                text = row.get(source.field, "") if source.field else _fill(source.parts, row)
                text = text.translate(_CONTROL).strip()[:MAX_LABEL]
                if text:
                    pairs.append((key, text))
                    break
        return tuple(pairs)

    def _metric_labels(self, labels: Labels, metric: _MetricPlan) -> Labels:
        key = (labels, id(metric))
        merged = self._merged.get(key)
        if merged is None:
            if len(self._merged) >= 10_000:
                self._merged.clear()
            renamed = tuple((new, v) for k, v in labels if (new := metric.relabel.get(k, k)) is not None)
            merged = self._merged[key] = tuple(sorted(renamed + metric.labels))
        return merged

    def _value(self, metric: _MetricPlan, ns: dict[str, object], row: dict[str, str]) -> float | None:
        for name, pattern in metric.match:
            if not pattern.search(row.get(name, "")):
                return None
        where = metric.where
        if where is not None and not (where.needs <= ns.keys() and _evaluate(where, ns)):
            return None
        kind = metric.kind
        if kind == _GAUGE or kind == _RATE:
            value = ns.get(metric.column)
            return value * metric.scale if type(value) is float else None
        if kind == _STATE:
            state = " ".join(row.get(metric.column, "").split()).lower()
            if not state:
                return None
            mapped = metric.mapping[state] if state in metric.mapping else metric.default
            return None if mapped is None else mapped * metric.scale
        for formula in metric.formulas:
            if formula.needs <= ns.keys():
                result = _evaluate(formula, ns)
                if result is None or isinstance(result, str):
                    return None
                try:
                    value = float(result) * metric.scale  # type: ignore[arg-type]
                except (TypeError, ValueError):
                    return None
                return value if math.isfinite(value) else None
        return None


def _fill(parts: tuple[tuple[str, str, str], ...], row: dict[str, str]) -> str:
    """A label template filled from the row; "" when a field it names is empty (the next source is tried)."""
    text = []
    for literal, name, spec in parts:
        text.append(literal)
        if name:
            value = row.get(name, "").strip()
            if spec:
                value = _filter(value, spec)
            if not value:
                return ""
            text.append(value)
    return "".join(text)


def _evaluate(formula: _Formula, ns: dict[str, object]) -> object:
    for key in formula.rate_keys:
        if ns.get(key) is None:
            return None
    try:
        return eval(formula.code, _NO_BUILTINS, ns)  # noqa: S307 - code built from a whitelisted AST
    except _EVAL_ERRORS:
        return None
