"""SNMP profiles: what to ask a device for and how to name the answers, kept as YAML data.

A field engineer adds a device family by writing a file under `profiles/`
(format: profiles/README.md), never Python. This module loads those files,
checks them (errors say `file:line: field: problem`), resolves `extends`,
and picks a device's profile from its sysObjectID and sysDescr.

The loaded set is plain frozen dataclasses: pydantic validates the files in
the agent's forked config child and the result is pickled back, so pydantic
never enters the long-running agent. For the same reason expressions stay
source text here; `compile_expression` turns them into code where they run.
"""

from __future__ import annotations

import ast
import functools
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType
from typing import Annotated, Any, Literal

from agent.configfile import Check, ConfigError, format_location, load_model, read_yaml
from agent.pollers.snmp.types import OID, format_oid, parse_oid

SHIPPED_DIR = Path(__file__).with_name("profiles")
DEFAULT_PROFILE = "generic"
FORBID_UNKNOWN = {"extra": "forbid"}
INDEX = "index"  # a label source: the row's index (the OID suffix), e.g. "3" or "1.2"

frozen = dataclass(frozen=True, slots=True, kw_only=True)

# ---------------------------------------------------------------- field checks


def _matches(pattern: str, what: str) -> Any:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return Check(check)


ProfileName = Annotated[str, _matches(r"[a-z0-9][a-z0-9._-]{0,63}", "a profile name (lower case, digits, . _ -)")]
Name = Annotated[str, _matches(r"[a-z][a-z0-9_]{0,63}", "a name (lower case letters, digits, _; starts with a letter)")]
MetricName = Annotated[
    str, _matches(r"[a-z][a-z0-9]*_[a-z0-9_]*[a-z0-9]", "a metric name (measurement_field_unit, lower case)")
]


def _oid(value: Any) -> OID:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} reads as a number, not an OID; put the OID in quotes")
    return parse_oid(value)


def _oids(value: Any) -> tuple[OID, ...]:
    return tuple(_oid(v) for v in value) if isinstance(value, list) else (_oid(value),)


def _as_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else (value,)


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None
    return value


def _expression(value: str) -> str:
    expression_inputs(value)
    return value


def _template(value: str) -> str:
    try:
        list(string.Formatter().parse(value))
    except ValueError as exc:
        raise ValueError(f"not a message template: {exc}") from None
    return value


Oid = Annotated[OID, Check(_oid, before=True)]
Oids = Annotated[tuple[OID, ...], Check(_oids, before=True)]
Expr = Annotated[str, Check(_expression)]

# ---------------------------------------------------------------- the file format


@frozen
class Lookup:
    """A label read from another row: `column` at the row whose index is this row's `row_from` value."""

    __pydantic_config__ = FORBID_UNKNOWN
    column: Name
    row_from: Name


LabelSources = Annotated[tuple[Name | Lookup, ...], Check(_as_tuple, before=True)]


@frozen
class Metric:
    """One output series per row: exactly one of gauge, rate, state or expr says where its value comes from."""

    __pydantic_config__ = FORBID_UNKNOWN
    metric: MetricName
    gauge: Name | None = None        # a column's value
    rate: Name | None = None         # a counter column's change per second
    state: Name | None = None        # an enumerated column's code, mapped through `map`
    expr: Annotated[tuple[Expr, ...], Check(_as_tuple, before=True)] = ()  # first whose columns all exist wins
    scale: float = 1.0
    map: dict[int, float] = field(default_factory=dict)
    default: float | None = None     # for a state code not in `map`; none: no sample
    where: Expr | None = None        # the row gives this metric only if true
    labels: dict[Name, str] = field(default_factory=dict)  # constant labels, e.g. direction: in
    # A row label renamed for this metric (entity: cpu) or dropped (path: null).
    relabel: dict[Name, Name | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        given = [k for k in ("gauge", "rate", "state") if getattr(self, k) is not None]
        given += ["expr"] if self.expr else []
        if len(given) != 1:
            raise ValueError(f"give exactly one of gauge, rate, state or expr (got {', '.join(given) or 'none'})")
        if self.state is None and (self.map or self.default is not None):
            raise ValueError("map and default belong to a state metric")
        if self.state is not None and not self.map:
            raise ValueError("a state metric needs map: {code: value, …}")

    @property
    def inputs(self) -> tuple[frozenset[str], frozenset[str]]:
        """Columns read as values, and columns read as rates, by this metric."""
        values: set[str] = set()
        rates: set[str] = set()
        for text in self.expr + ((self.where,) if self.where else ()):
            v, r = expression_inputs(text)
            values |= v
            rates |= r
        if self.rate:
            rates.add(self.rate)
        for name in (self.gauge, self.state):
            if name:
                values.add(name)
        return frozenset(values), frozenset(rates)


@frozen
class Group:
    """Columns fetched together (scalars: GET; a table: one WALK) and the metrics built from each row."""

    __pydantic_config__ = FORBID_UNKNOWN
    columns: dict[Name, Oids]
    labels: dict[Name, LabelSources] = field(default_factory=dict)
    metrics: tuple[Metric, ...] = ()
    discontinuity: Name | None = None  # a TimeTicks column (ifCounterDiscontinuityTime): a change resets the row

    @property
    def oids(self) -> tuple[OID, ...]:
        return tuple(dict.fromkeys(oid for oids in self.columns.values() for oid in oids))


@frozen
class Message:
    """A trap's text; `{field}` and `{device}` are filled in. Chinese optional: English is the fallback."""

    __pydantic_config__ = FORBID_UNKNOWN
    en: Annotated[str, Check(_template)]
    zh: Annotated[str, Check(_template)] = ""


@frozen
class Trap:
    __pydantic_config__ = FORBID_UNKNOWN
    oid: Oid
    event: Name
    severity: Literal["info", "warning", "minor", "major", "critical"]
    message: Message
    fields: dict[Name, Oid] = field(default_factory=dict)  # varbind OID prefix → name usable in the message
    clears: Name | None = None                             # the event this one ends (link_up clears link_down)


@frozen
class Match:
    __pydantic_config__ = FORBID_UNKNOWN
    sysobjectid: tuple[Oid, ...] = ()                                   # prefixes; the longest wins
    sysdescr: tuple[Annotated[str, Check(_regex)], ...] = ()            # regexes, tried when no prefix matched


@frozen
class ProfileFile:
    """One YAML file, as written."""

    __pydantic_config__ = FORBID_UNKNOWN
    name: ProfileName
    description: str = ""
    extends: tuple[ProfileName, ...] = ()
    match: Match = field(default_factory=Match)
    scalars: dict[Name, Group] = field(default_factory=dict)
    tables: dict[Name, Group] = field(default_factory=dict)
    traps: tuple[Trap, ...] = ()


# ---------------------------------------------------------------- resolved profiles


@frozen
class Profile:
    """A profile with its `extends` folded in: everything a poller needs for one device."""

    name: str
    source: str                         # the file it came from
    description: str
    match: Match
    scalars: dict[str, Group]
    tables: dict[str, Group]
    traps: dict[OID, Trap]
    get_oids: tuple[OID, ...]                # scalar instance OIDs to GET (ending in .0 or a fixed row)
    # Per table, the column OIDs to walk together, fallbacks included. A column
    # may serve two tables (entPhysicalName names CPUs and sensors): walk it once.
    walks: dict[str, tuple[OID, ...]]


@frozen
class ProfileSet:
    profiles: dict[str, Profile]
    by_prefix: tuple[tuple[OID, str], ...]  # longest prefix first

    def select(self, sys_object_id: OID, sys_descr: str, forced: str = "") -> Profile:
        """The forced profile, else the longest matching sysObjectID prefix, else a sysDescr regex, else generic."""
        if forced:
            if forced not in self.profiles:
                raise ConfigError(f"no SNMP profile named {forced!r} (known: {', '.join(sorted(self.profiles))})")
            return self.profiles[forced]
        for prefix, name in self.by_prefix:
            if sys_object_id[: len(prefix)] == prefix:
                return self.profiles[name]
        for name in sorted(self.profiles):
            if any(re.search(pattern, sys_descr) for pattern in self.profiles[name].match.sysdescr):
                return self.profiles[name]
        return self.profiles[DEFAULT_PROFILE]


# ---------------------------------------------------------------- loading


def load_profiles(extra_dir: str | Path | None = None) -> ProfileSet:
    """The shipped profiles, plus those in `extra_dir`, which replace shipped ones of the same name.

    Raises `ConfigError` listing every problem as `file:line: field: problem`.
    """
    specs: dict[str, tuple[ProfileFile, Path]] = {}
    problems: list[str] = []
    for directory, may_override in ((SHIPPED_DIR, False), (Path(extra_dir) if extra_dir else None, True)):
        if directory is None:
            continue
        if not directory.is_dir():
            raise ConfigError(f"{directory}: no such folder of SNMP profiles")
        seen_here: dict[str, Path] = {}
        for path in sorted(directory.glob("*.yaml")):
            try:
                spec = load_model(path, ProfileFile)
            except ConfigError as exc:
                problems.append(str(exc))
                continue
            problems.extend(_reference_problems(spec, path))
            if spec.name in seen_here:
                problems.append(f"{path}:1: name: {spec.name!r} is also the name in {seen_here[spec.name]}")
                continue
            seen_here[spec.name] = path
            if spec.name in specs and not may_override:
                continue
            specs[spec.name] = (spec, path)
    if not problems:
        problems.extend(_extends_problems(specs))
    if not problems and DEFAULT_PROFILE not in specs:
        problems.append(f"{SHIPPED_DIR}: no profile named {DEFAULT_PROFILE!r}, the fallback for unknown devices")
    if problems:
        raise ConfigError("\n".join(problems))
    profiles = {name: _resolve(name, specs) for name in specs}
    return ProfileSet(profiles=profiles, by_prefix=_prefixes(profiles))


def _prefixes(profiles: dict[str, Profile]) -> tuple[tuple[OID, str], ...]:
    owners: dict[OID, str] = {}
    for name in sorted(profiles):
        for prefix in profiles[name].match.sysobjectid:
            if prefix in owners:
                raise ConfigError(
                    f"{profiles[name].source}: match.sysobjectid: {format_oid(prefix)} is also matched by "
                    f"profile {owners[prefix]!r} ({profiles[owners[prefix]].source})"
                )
            owners[prefix] = name
    return tuple(sorted(owners.items(), key=lambda item: -len(item[0])))


def _resolve(name: str, specs: dict[str, tuple[ProfileFile, Path]]) -> Profile:
    scalars: dict[str, Group] = {}
    tables: dict[str, Group] = {}
    traps: dict[OID, Trap] = {}
    for ancestor in _lineage(name, specs):
        spec = specs[ancestor][0]
        scalars.update(spec.scalars)
        tables.update(spec.tables)
        traps.update((trap.oid, trap) for trap in spec.traps)
    spec, path = specs[name]
    return Profile(
        name=name, source=str(path), description=spec.description, match=spec.match,
        scalars=scalars, tables=tables, traps=traps,
        get_oids=tuple(dict.fromkeys(oid for group in scalars.values() for oid in group.oids)),
        walks={table: group.oids for table, group in tables.items()},
    )


def _lineage(name: str, specs: dict[str, tuple[ProfileFile, Path]]) -> list[str]:
    """`name` and everything it extends, parents first; later ones override earlier ones."""
    order: list[str] = []
    for parent in specs[name][0].extends:
        for ancestor in _lineage(parent, specs):
            if ancestor not in order:
                order.append(ancestor)
    return order + [name]


def _extends_problems(specs: dict[str, tuple[ProfileFile, Path]]) -> list[str]:
    problems = []
    for name, (spec, path) in specs.items():
        for i, parent in enumerate(spec.extends):
            if parent not in specs:
                known = ", ".join(sorted(specs))
                problems.append(_at(path, ("extends", i), f"no profile named {parent!r} (known: {known})"))
            else:
                cycle = _cycle(parent, name, specs, [name])
                if cycle:
                    problems.append(_at(path, ("extends", i), f"extends itself: {' → '.join(cycle)}"))
    return problems


def _cycle(current: str, start: str, specs: dict[str, tuple[ProfileFile, Path]], path: list[str]) -> list[str]:
    if current == start:
        return path + [current]
    if current in path or current not in specs:
        return []
    for parent in specs[current][0].extends:
        found = _cycle(parent, start, specs, path + [current])
        if found:
            return found
    return []


def _reference_problems(spec: ProfileFile, path: Path) -> list[str]:
    """Names a file uses but never defines; pydantic checks each field alone, so these come after it."""
    found = list(_group_problems(spec))
    for i, trap in enumerate(spec.traps):
        known = set(trap.fields) | {"device"}
        for lang in ("en", "zh"):
            for _, placeholder, _, _ in string.Formatter().parse(getattr(trap.message, lang)):
                if placeholder is not None and placeholder not in known:
                    found.append(
                        (("traps", i, "message", lang), f"{{{placeholder}}} is not a field of this trap or {{device}}")
                    )
    return [_at(path, loc, message) for loc, message in found]


def _group_problems(spec: ProfileFile) -> Iterator[tuple[tuple[str | int, ...], str]]:
    for section, groups in (("scalars", spec.scalars), ("tables", spec.tables)):
        for group_name, group in groups.items():
            where = (section, group_name)
            known = set(group.columns)
            for reserved in sorted(known & {INDEX, "rate"}):
                yield where + ("columns", reserved), f"{reserved!r} is a reserved word; call the column something else"

            def unknown(name: str) -> str:
                return f"no column named {name!r} in this group (columns: {', '.join(sorted(known))})"

            if INDEX in group.labels:
                yield where + ("labels", INDEX), "'index' is reserved: rows whose labels coincide get it"
            for key, sources in group.labels.items():
                for source in sources:
                    names = (source.column, source.row_from) if isinstance(source, Lookup) else (source,)
                    for name in names:
                        if name not in known and not (name == INDEX and isinstance(source, str)):
                            yield where + ("labels", key), unknown(name)
            if group.discontinuity and group.discontinuity not in known:
                yield where + ("discontinuity",), unknown(group.discontinuity)
            for i, metric in enumerate(group.metrics):
                values, rates = metric.inputs
                for name in sorted((values | rates) - known):
                    yield where + ("metrics", i), unknown(name)
                row_keys = {metric.relabel.get(key, key) for key in group.labels}
                for key in sorted(set(metric.labels) & row_keys):
                    yield where + ("metrics", i, "labels", key), f"{key!r} is already a label of this group's rows"
                for key, new in metric.relabel.items():
                    if key not in group.labels:
                        yield where + ("metrics", i, "relabel", key), f"{key!r} is not a label of this group"
                    elif new == INDEX or new is not None and new in set(group.labels) - {key} - set(metric.relabel):
                        yield where + ("metrics", i, "relabel", key), f"{new!r} is already a label of this group"


def _at(path: Path, loc: tuple[str | int, ...], message: str) -> str:
    _, lines = read_yaml(path)
    for end in range(len(loc), -1, -1):
        line = lines.get(loc[:end])
        if line is not None:
            return f"{path}:{line}: {format_location(loc)}: {message}"
    return f"{path}: {format_location(loc)}: {message}"


# ---------------------------------------------------------------- expressions

# Arithmetic, comparisons and `rate(column)` over a row's columns; nothing that
# could reach outside the row (no attributes, subscripts or other calls).
_ALLOWED_NODES = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Mod, ast.Pow, ast.USub, ast.UAdd, ast.Not, ast.And, ast.Or,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE,
)
RATE_PREFIX = "_r_"  # a rate's name inside compiled code; column names cannot start with "_"
MAX_EXPRESSION = 1000  # characters; also keeps the recursive checks below far from Python's stack limit


def expression_inputs(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """Columns `text` reads as values and as rates; ValueError if it is not an allowed expression."""
    if len(text) > MAX_EXPRESSION:
        raise ValueError(f"longer than {MAX_EXPRESSION} characters; split the work into more metrics")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"not an expression: {exc.msg}") from None
    values: set[str] = set()
    rates: set[str] = set()
    _walk(tree, values, rates)
    return frozenset(values), frozenset(rates)


def _walk(node: ast.AST, values: set[str], rates: set[str]) -> None:
    if isinstance(node, ast.Call):
        if not (
            isinstance(node.func, ast.Name) and node.func.id == "rate" and not node.keywords
            and len(node.args) == 1 and isinstance(node.args[0], ast.Name)
        ):
            raise ValueError("the only function is rate(column)")
        rates.add(node.args[0].id)
    elif isinstance(node, ast.Name):
        if node.id == "rate":
            raise ValueError("write rate(column)")
        values.add(node.id)
    elif isinstance(node, ast.Constant):
        if type(node.value) not in (int, float, str):
            raise ValueError(f"{node.value!r} is not a number or text")
    elif isinstance(node, _ALLOWED_NODES):
        for child in ast.iter_child_nodes(node):
            _walk(child, values, rates)
    else:
        raise ValueError(f"{type(node).__name__} is not allowed in an expression")


class _Rewrite(ast.NodeTransformer):
    def visit_Call(self, node: ast.Call) -> ast.AST:  # noqa: N802 - ast's naming
        column = node.args[0]
        assert isinstance(column, ast.Name)  # _walk allows rate(name) only
        return ast.copy_location(ast.Name(RATE_PREFIX + column.id, ast.Load()), node)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:  # noqa: N802
        # Floats overflow at once where ints would grow without bound: 10 ** (3 * scale) stays cheap.
        if type(node.value) is int:
            return ast.copy_location(ast.Constant(float(node.value)), node)
        return node


@functools.lru_cache(maxsize=None)
def compile_expression(text: str) -> CodeType:
    """Code to `eval` with a row's namespace: columns by name, rates as RATE_PREFIX + name."""
    expression_inputs(text)
    tree = ast.fix_missing_locations(_Rewrite().visit(ast.parse(text.strip(), mode="eval")))
    return compile(tree, f"<profile expression {text!r}>", "eval")
