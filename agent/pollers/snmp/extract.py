"""Walked SNMP data → Vigil samples, as a device's profile says.

One `Extractor` per device, because a rate needs the device's previous poll.
The profile is planned once (which column feeds which metric, compiled
expressions, label order), so a poll costs a few dict lookups per varbind.

Rates never span a reboot or a counter reset, because either would show as a
spike or a gap filled with nonsense:
* the device rebooted when sysUpTime went back or the device's boot time moved
  later (it rebooted between two polls and has been up longer than the first
  uptime); all its counters are forgotten, since a counter that restarted from
  zero may already have climbed past its old value (sysUpTime also wraps
  after 497 days, which costs one interval of rates, never a wrong one);
* a row whose discontinuity column (ifCounterDiscontinuityTime) changed gives
  no rate for that interval;
* a counter that went down is judged by `CounterRates` (a plausible wrap, or a
  reset that gives no rate), with Counter32 wrapping at 2**32 and Counter64 at
  2**64; an INTEGER or Gauge32 used as a counter never wraps.
A value of the wrong type is skipped and counted in `bad_values`, never raised:
one odd device must not cost a poll.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import CodeType

from agent.pollers.snmp.profiles import (
    INDEX,
    RATE_PREFIX,
    Group,
    Lookup,
    Profile,
    compile_expression,
    expression_inputs,
)
from agent.pollers.snmp.types import OID, Column, Tag, VarBind, format_oid
from agent.rates import CounterRates
from agent.samples import Labels, Sample

SYS_UPTIME: OID = (1, 3, 6, 1, 2, 1, 1, 3, 0)
REBOOT_SLACK_S = 10.0     # poll latency and clock jitter; no device reboots faster than this
MAX_LABEL = 200           # characters; a label is an identity, not a document
_CACHE_LIMIT = 10_000     # cached labels per device; a device inventing names cannot grow us

_NUMERIC = frozenset(int(t) for t in (Tag.INTEGER, Tag.COUNTER32, Tag.GAUGE32, Tag.TIMETICKS, Tag.COUNTER64))
_WIDTH: dict[int, int | None] = {
    int(Tag.COUNTER32): 32, int(Tag.COUNTER64): 64, int(Tag.INTEGER): None, int(Tag.GAUGE32): None,
    int(Tag.TIMETICKS): None,
}
_IP_ADDRESS = int(Tag.IP_ADDRESS)
# Whitespace controls become spaces, other controls (NUL padding, escapes, C1) vanish.
_CONTROL: dict[int, str | None] = {c: None for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
_CONTROL.update({0x09: " ", 0x0A: " ", 0x0D: " "})
_NO_BUILTINS: dict[str, object] = {"__builtins__": {}}
_GAUGE, _RATE, _STATE, _EXPR = range(4)
_EVAL_ERRORS = (TypeError, ValueError, ZeroDivisionError, OverflowError, NameError)

Sources = list[tuple[OID, Column]]  # a column's OIDs that the device answered, in preference order


@dataclass(slots=True)
class _Formula:
    needs: frozenset[str]          # columns that must have a value in the row
    rate_keys: tuple[str, ...]     # rates it reads; an unknown rate means no value this time
    code: CodeType


@dataclass(slots=True)
class _MetricPlan:
    name: str
    kind: int
    column: str                    # gauge/state column, or the rate key of a rate metric
    scale: float
    mapping: dict[int, float]
    default: float | None
    formulas: tuple[_Formula, ...]
    where: _Formula | None
    labels: Labels                 # constant labels, sorted
    relabel: dict[str, str | None]


@dataclass(slots=True)
class _GroupPlan:
    key: str                                               # "tables.interfaces": names state and bad values
    values: tuple[tuple[str, tuple[OID, ...]], ...]
    counters: tuple[tuple[str, str, tuple[OID, ...]], ...]  # (column, rate key, OIDs)
    labels: tuple[tuple[str, tuple[str | Lookup, ...]], ...]  # sorted by label key
    label_columns: tuple[tuple[str, tuple[OID, ...]], ...]
    discontinuity: tuple[OID, ...]
    metrics: tuple[_MetricPlan, ...]


def _formula(text: str) -> _Formula:
    values, rates = expression_inputs(text)
    return _Formula(values | rates, tuple(RATE_PREFIX + r for r in sorted(rates)), compile_expression(text))


def _plan(key: str, group: Group) -> _GroupPlan:
    values: set[str] = set()
    rates: set[str] = set()
    metrics = []
    for metric in group.metrics:
        v, r = metric.inputs
        values |= v
        rates |= r
        if metric.gauge is not None:
            kind, column = _GAUGE, metric.gauge
        elif metric.rate is not None:
            kind, column = _RATE, RATE_PREFIX + metric.rate
        elif metric.state is not None:
            kind, column = _STATE, metric.state
        else:
            kind, column = _EXPR, ""
        metrics.append(_MetricPlan(
            name=metric.metric, kind=kind, column=column, scale=metric.scale, mapping=dict(metric.map),
            default=metric.default, formulas=tuple(_formula(t) for t in metric.expr),
            where=_formula(metric.where) if metric.where else None,
            labels=tuple(sorted(metric.labels.items())), relabel=dict(metric.relabel),
        ))
    label_names = {
        name for sources in group.labels.values() for s in sources
        for name in ((s.column, s.row_from) if isinstance(s, Lookup) else (s,)) if name != INDEX
    }
    return _GroupPlan(
        key=key,
        values=tuple((name, group.columns[name]) for name in sorted(values - rates)),
        counters=tuple((name, RATE_PREFIX + name, group.columns[name]) for name in sorted(rates)),
        labels=tuple(sorted(group.labels.items())),
        label_columns=tuple((name, group.columns[name]) for name in sorted(label_names)),
        discontinuity=group.columns[group.discontinuity] if group.discontinuity else (),
        metrics=tuple(metrics),
    )


def _disambiguate(row_labels: dict[OID, Labels]) -> None:
    """Rows whose labels coincide (two stacked chassis each with a "Board 0") also get their index as a label."""
    count: dict[Labels, int] = {}
    for labels in row_labels.values():
        count[labels] = count.get(labels, 0) + 1
    for row, labels in row_labels.items():
        if count[labels] > 1:
            row_labels[row] = tuple(sorted(labels + ((INDEX, format_oid(row)),)))


def _resolve(oids: tuple[OID, ...], table: Mapping[OID, Column]) -> Sources:
    return [(oid, table[oid]) for oid in oids if oid in table]


class Extractor:
    """Turns one device's polls into samples; keeps its counters between polls."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self._scalars = tuple(_plan(f"scalars.{n}", g) for n, g in profile.scalars.items())
        self._tables = tuple(_plan(f"tables.{n}", g) for n, g in profile.tables.items())
        self._rates = CounterRates()
        self._discontinuity: dict[tuple[str, OID], int] = {}
        self._ticks: int | None = None
        self._booted = 0.0
        self._texts: dict[bytes, str] = {}
        self._merged: dict[tuple[Labels, int], Labels] = {}
        self.bad_values: dict[str, int] = {}   # the last poll's skipped values, by group.column or group.metric
        self.rebooted = False                  # the last poll found the device rebooted

    def extract(
        self,
        scalars: Iterable[VarBind],
        table: Mapping[OID, Column],
        at_s: float,
        uptime_ticks: int | None = None,
    ) -> list[Sample]:
        """Samples from one poll: the GET answers, every walked column by column OID
        (all of the profile's walks in one mapping), the poll time and sysUpTime.

        Without `uptime_ticks`, sysUpTime.0 is taken from `scalars` when there.
        """
        self.bad_values = {}
        by_oid = {oid: {(): (tag, value)} for oid, tag, value in scalars}
        if uptime_ticks is None:
            tag, value = by_oid.get(SYS_UPTIME, {}).get((), (None, None))
            uptime_ticks = value if tag == Tag.TIMETICKS and type(value) is int else None
        self.rebooted = self._note_uptime(at_s, uptime_ticks)
        out: list[Sample] = []
        for plan in self._scalars:
            self._group(plan, by_oid, at_s, out)
        for plan in self._tables:
            self._group(plan, table, at_s, out)
        return out

    def _note_uptime(self, at_s: float, ticks: int | None) -> bool:
        if ticks is None:
            return False
        booted = at_s - ticks / 100.0
        rebooted = self._ticks is not None and (ticks < self._ticks or booted > self._booted + REBOOT_SLACK_S)
        if rebooted:
            self._rates.forget()
            self._discontinuity.clear()
        self._ticks, self._booted = ticks, booted
        return rebooted

    def _bad(self, what: str) -> None:
        self.bad_values[what] = self.bad_values.get(what, 0) + 1

    def _group(self, plan: _GroupPlan, table: Mapping[OID, Column], at_s: float, out: list[Sample]) -> None:
        values = [(name, _resolve(oids, table)) for name, oids in plan.values]
        counters = [(name, key, _resolve(oids, table)) for name, key, oids in plan.counters]
        label_columns = {name: _resolve(oids, table) for name, oids in plan.label_columns}
        discontinuity = _resolve(plan.discontinuity, table)
        # Rows are where a metric's input has a value; a group whose metrics read
        # no column (an info metric) takes its rows from its label columns.
        row_sources = [s for _, s in values] + [s for _, _, s in counters]
        if not plan.values and not plan.counters:
            row_sources = list(label_columns.values())
        rows: set[OID] = set()
        for sources in row_sources:
            for _, column in sources:
                rows.update(column)
        row_labels = {row: self._labels(plan, row, label_columns) for row in sorted(rows)}
        if len(set(row_labels.values())) < len(row_labels):
            _disambiguate(row_labels)
        rate = self._rates.rate
        for row, labels in row_labels.items():
            reset = bool(discontinuity) and self._discontinuity_changed(plan.key, row, discontinuity)
            ns: dict[str, object] = {}
            for name, sources in values:
                for _, column in sources:
                    cell = column.get(row)
                    if cell is None or cell[1] is None:
                        continue
                    tag, value = cell
                    if tag in _NUMERIC and type(value) is int:
                        ns[name] = float(value)
                    elif type(value) is tuple:
                        ns[name] = format_oid(value)
                    elif type(value) is bytes:
                        ns[name] = self._text(tag, value)
                    else:
                        self._bad(f"{plan.key}.{name}")
                        continue
                    break
            for name, key, sources in counters:
                for oid, column in sources:
                    cell = column.get(row)
                    if cell is None or cell[1] is None:
                        continue
                    tag, value = cell
                    if tag not in _WIDTH or type(value) is not int:
                        self._bad(f"{plan.key}.{name}")
                        continue
                    per_second = rate((oid, row), value, at_s, _WIDTH[tag])
                    ns[name] = float(value)
                    ns[key] = None if reset else per_second
                    break
            for metric in plan.metrics:
                value = self._value(plan, metric, ns)
                if value is None:
                    continue
                if metric.labels or metric.relabel:
                    out.append((metric.name, self._metric_labels(labels, metric), value))
                else:
                    out.append((metric.name, labels, value))

    def _metric_labels(self, labels: Labels, metric: _MetricPlan) -> Labels:
        """The row's labels renamed and extended for one metric; cached, since rows repeat every poll."""
        key = (labels, id(metric))  # plans live as long as this extractor
        merged = self._merged.get(key)
        if merged is None:
            if len(self._merged) >= _CACHE_LIMIT:
                self._merged.clear()
            renamed = tuple((new, v) for k, v in labels if (new := metric.relabel.get(k, k)) is not None)
            merged = self._merged[key] = tuple(sorted(renamed + metric.labels))
        return merged

    def _discontinuity_changed(self, group: str, row: OID, sources: Sources) -> bool:
        for _, column in sources:
            cell = column.get(row)
            if cell is not None and type(cell[1]) is int:
                before = self._discontinuity.get((group, row))
                self._discontinuity[(group, row)] = cell[1]
                return before is not None and before != cell[1]
        return False

    def _value(self, plan: _GroupPlan, metric: _MetricPlan, ns: dict[str, object]) -> float | None:
        where = metric.where
        if where is not None and not (where.needs <= ns.keys() and self._evaluate(plan, metric, where, ns)):
            return None
        kind = metric.kind
        if kind == _RATE or kind == _GAUGE:
            value = ns.get(metric.column)
            if value is None:
                return None
            if type(value) is not float:
                self._bad(f"{plan.key}.{metric.column}")
                return None
            return value * metric.scale
        if kind == _STATE:
            code = ns.get(metric.column)
            if code is None:
                return None
            if type(code) is not float:
                self._bad(f"{plan.key}.{metric.column}")
                return None
            mapped = metric.mapping.get(int(code), metric.default)
            return None if mapped is None else mapped * metric.scale
        for formula in metric.formulas:
            if formula.needs <= ns.keys():
                result = self._evaluate(plan, metric, formula, ns)
                if result is None or isinstance(result, str):
                    return None
                value = float(result) * metric.scale
                return value if math.isfinite(value) else None
        return None

    def _evaluate(self, plan: _GroupPlan, metric: _MetricPlan, formula: _Formula, ns: dict[str, object]) -> object:
        """The formula's result; None when a rate is unknown or the values do not fit it."""
        for key in formula.rate_keys:
            if ns[key] is None:
                return None
        try:
            return eval(formula.code, _NO_BUILTINS, ns)  # noqa: S307 - code built from a whitelisted AST
        except ZeroDivisionError:
            return None  # a speed or a size of 0: nothing to report, nothing wrong
        except _EVAL_ERRORS:
            self._bad(f"{plan.key}.{metric.name}")
            return None

    def _labels(self, plan: _GroupPlan, row: OID, columns: dict[str, Sources]) -> Labels:
        pairs = []
        for key, sources in plan.labels:
            for source in sources:
                if source == INDEX:
                    text = format_oid(row) if row else ""
                elif isinstance(source, Lookup):
                    text = self._lookup(row, columns[source.row_from], columns[source.column])
                else:
                    text = self._cell_text(columns[source], row)
                if text:
                    pairs.append((key, text))
                    break
        return tuple(pairs)

    def _lookup(self, row: OID, pointer: Sources, target: Sources) -> str:
        for _, column in pointer:
            cell = column.get(row)
            if cell is not None and type(cell[1]) is int and cell[1] > 0:
                return self._cell_text(target, (cell[1],))
        return ""

    def _cell_text(self, sources: Sources, row: OID) -> str:
        for _, column in sources:
            cell = column.get(row)
            if cell is not None:
                text = self._text(*cell)
                if text:
                    return text
        return ""

    def _text(self, tag: int, value: object) -> str:
        """A label from any SNMP value: bytes decoded leniently, controls dropped, capped."""
        if type(value) is bytes:
            if tag == _IP_ADDRESS and len(value) == 4:
                return ".".join(map(str, value))
            text = self._texts.get(value)
            if text is None:
                if len(self._texts) >= _CACHE_LIMIT:
                    self._texts.clear()
                text = value.decode("utf-8", "replace").translate(_CONTROL).strip()[:MAX_LABEL].rstrip()
                self._texts[value] = text
            return text
        if type(value) is int:
            return str(value)
        if type(value) is tuple:
            return format_oid(value)
        return ""
