"""CLI polling definitions: which commands to send a network device and how its answers become metrics.

One YAML file per platform under `definitions/` (format: README.md beside
this module). A command's output is parsed into rows by a TextFSM template —
the playbooks' own (`playbooks/templates/…`), ntc-templates' (`ntc: true`),
or one of ours under `templates/` where neither reads what a poll needs
(interface byte counters) — and each row gives metrics the way an SNMP
profile's table row does: `gauge`, `rate`, `state` + `map`, `expr`, with
`where`, `scale`, constant `labels` and `relabel`. The metric names are the
SNMP profiles' names for the same facts, so a switch polled over the CLI
looks like one polled over SNMP downstream.

Loaded and validated in the agent's forked config child (pydantic, PyYAML)
and handed back as plain frozen dataclasses, as the SNMP profiles are;
templates are resolved to absolute paths and checked to compile there too.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from agent.configfile import Bounds, Check, ConfigError, Duration, format_location, load_model, read_yaml
from agent.pollers.snmp.profiles import MetricName, Name, expression_inputs
from agent.ssh.platforms import NETMIKO_DEVICE_TYPES

if TYPE_CHECKING:
    from agent.config import AgentConfig

SHIPPED_DIR = Path(__file__).with_name("definitions")
OWN_TEMPLATES = Path(__file__).with_name("templates")
FORBID_UNKNOWN = {"extra": "forbid"}
FILTERS = ("ifname", "digits", "lower")     # `{field:filter}` in a label template; see cli.py
frozen = dataclass(frozen=True, slots=True, kw_only=True)


def _as_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else (value,)


def _expression(value: str) -> str:
    expression_inputs(value)
    return value


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None
    return value


def _label_source(value: str) -> str:
    """A field name, or a template such as `{slot}.{power_id:digits}`."""
    if "{" not in value:
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", value):
            raise ValueError(f"{value!r} is not a field name (lower case) or a template with {{field}}")
        return value
    try:
        parts = list(string.Formatter().parse(value))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a label template: {exc}") from None
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", name) or conversion:
            raise ValueError(f"{{{name}}}: write {{field}} or {{field:filter}} with a lower-case field name")
        if spec and spec not in FILTERS:
            raise ValueError(f"{{{name}:{spec}}}: unknown filter (known: {', '.join(FILTERS)})")
    return value


Expr = Annotated[str, Check(_expression)]
LabelSource = Annotated[str, Check(_label_source)]


def template_fields(text: str) -> set[str]:
    """The fields a label source reads."""
    if "{" not in text:
        return {text}
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@frozen
class CliMetric:
    """One series per row; exactly one of gauge, rate, state or expr gives its value (as in SNMP profiles)."""

    __pydantic_config__ = FORBID_UNKNOWN
    metric: MetricName
    gauge: Name | None = None          # a field's number ("45%", "1,024" read as 45, 1024)
    rate: Name | None = None           # a counter field's change per second
    state: Name | None = None          # a field's text, mapped through `map` (case and spaces ignored)
    expr: Annotated[tuple[Expr, ...], Check(_as_tuple, before=True)] = ()   # the first whose fields all exist
    scale: float = 1.0
    map: dict[str, float | None] = field(default_factory=dict)   # a text mapped to null gives no sample
    default: float | None = None       # for a state not in `map`; none: no sample
    match: dict[Name, Annotated[str, Check(_regex)]] = field(default_factory=dict)  # field → regex it must contain
    where: Expr | None = None          # the row gives this metric only if true
    labels: dict[Name, str] = field(default_factory=dict)        # constant labels, e.g. direction: in
    relabel: dict[Name, Name | None] = field(default_factory=dict)  # a row label renamed, or dropped (null)

    def __post_init__(self) -> None:
        given = [k for k in ("gauge", "rate", "state") if getattr(self, k) is not None]
        given += ["expr"] if self.expr else []
        if len(given) != 1:
            raise ValueError(f"give exactly one of gauge, rate, state or expr (got {', '.join(given) or 'none'})")
        if self.state is None and (self.map or self.default is not None):
            raise ValueError("map and default belong to a state metric")
        if self.state is not None and not self.map:
            raise ValueError("a state metric needs map: {text: value, …}")
        object.__setattr__(self, "map", {_state_key(k): v for k, v in self.map.items()})

    @property
    def inputs(self) -> tuple[frozenset[str], frozenset[str]]:
        values: set[str] = set()
        rates: set[str] = set()
        for text in self.expr + ((self.where,) if self.where else ()):
            v, r = expression_inputs(text)
            values |= v
            rates |= r
        if self.rate:
            rates.add(self.rate)
        for name in (self.gauge, self.state, *self.match):
            if name:
                values.add(name)
        return frozenset(values), frozenset(rates)


def _state_key(text: Any) -> str:
    return " ".join(str(text).split()).lower()


@frozen
class CliCommand:
    """One command, its parser, and the metrics each parsed row gives."""

    __pydantic_config__ = FORBID_UNKNOWN
    command: str
    template: str | None = None        # under agent/pollers/ssh/templates/ or playbooks/templates/
    ntc: bool = False                  # ntc-templates' template for this platform and command
    labels: dict[Name, Annotated[tuple[LabelSource, ...], Check(_as_tuple, before=True)]] = field(default_factory=dict)
    discontinuity: Name | None = None  # a field that changes when the row's counters were cleared
    timeout: Annotated[float, Duration, Bounds(ge=0.1)] = 30.0   # `60s`; the poll's own deadline still bounds it
    metrics: tuple[CliMetric, ...] = ()
    path: str = ""                     # the template file, filled in at load

    def __post_init__(self) -> None:
        if self.ntc == (self.template is not None):
            raise ValueError("give either `ntc: true` or `template: <path under templates/>`")
        if not self.metrics:
            raise ValueError("a command without metrics polls for nothing")


@frozen
class DefinitionFile:
    __pydantic_config__ = FORBID_UNKNOWN
    platform: str
    description: str = ""
    commands: dict[Name, CliCommand]


@frozen
class Definition:
    """A platform's commands, ready to run: templates resolved to files that compile."""

    platform: str
    source: str
    description: str
    commands: dict[str, CliCommand]


Definitions = dict[str, Definition]


def template_roots() -> tuple[Path, ...]:
    from playbooks import SHIPPED as PLAYBOOKS

    return (OWN_TEMPLATES, PLAYBOOKS / "templates")


def load_definitions(extra_dir: str | Path | None = None) -> Definitions:
    """The shipped definitions, plus those in `extra_dir`, which replace shipped ones of the same platform.

    Raises `ConfigError` listing every problem as `file:line: field: problem`.
    """
    found: Definitions = {}
    problems: list[str] = []
    for directory in (SHIPPED_DIR, Path(extra_dir) if extra_dir else None):
        if directory is None:
            continue
        if not directory.is_dir():
            raise ConfigError(f"{directory}: no such folder of SSH polling definitions")
        seen: dict[str, Path] = {}
        for path in sorted(directory.glob("*.yaml")):
            try:
                spec = load_model(path, DefinitionFile)
            except ConfigError as exc:
                problems.append(str(exc))
                continue
            if spec.platform in seen:
                problems.append(f"{path}:1: platform: {spec.platform!r} is also defined in {seen[spec.platform]}")
                continue
            seen[spec.platform] = path
            definition, errors = _resolve(spec, path)
            problems.extend(errors)
            if definition is not None:
                found[spec.platform] = definition
    if problems:
        raise ConfigError("\n".join(problems))
    return found


def _resolve(spec: DefinitionFile, path: Path) -> tuple[Definition | None, list[str]]:
    import dataclasses

    from playbooks.parsing import ntc_template, resolve_template
    from playbooks.parsing import template_fields as fields_of

    problems: list[str] = []

    def at(loc: tuple[str | int, ...], message: str) -> None:
        _, lines = read_yaml(path)
        for end in range(len(loc), -1, -1):
            line = lines.get(loc[:end])
            if line is not None:
                problems.append(f"{path}:{line}: {format_location(loc)}: {message}")
                return
        problems.append(f"{path}: {format_location(loc)}: {message}")

    if spec.platform not in NETMIKO_DEVICE_TYPES:
        at(("platform",), f"{spec.platform!r} is not a network CLI platform (one of {', '.join(NETMIKO_DEVICE_TYPES)}); "
                          "Linux hosts are polled without definitions")
        return None, problems
    commands: dict[str, CliCommand] = {}
    for name, command in spec.commands.items():
        where = ("commands", name)
        try:
            template = (ntc_template(spec.platform, command.command) if command.ntc
                        else resolve_template(command.template or "", template_roots()))
            known = set(fields_of(template))
        except ValueError as exc:
            at(where + (("ntc",) if command.ntc else ("template",)), str(exc))
            continue
        before = len(problems)

        def unknown(field_name: str) -> str:
            return f"{template.name} has no field {field_name!r} (it has {', '.join(sorted(known))})"

        for key, sources in command.labels.items():
            for source in sources:
                for field_name in sorted(template_fields(source) - known):
                    at(where + ("labels", key), unknown(field_name))
        if command.discontinuity and command.discontinuity not in known:
            at(where + ("discontinuity",), unknown(command.discontinuity))
        for i, metric in enumerate(command.metrics):
            values, rates = metric.inputs
            for field_name in sorted((values | rates) - known):
                at(where + ("metrics", i), unknown(field_name))
            row_keys = {metric.relabel.get(key, key) for key in command.labels}
            for key in sorted(set(metric.labels) & row_keys):
                at(where + ("metrics", i, "labels", key), f"{key!r} is already a label of this command's rows")
            for key in metric.relabel:
                if key not in command.labels:
                    at(where + ("metrics", i, "relabel", key), f"{key!r} is not a label of this command's rows")
        if len(problems) == before:
            commands[name] = dataclasses.replace(command, path=str(template))
    if problems:
        return None, problems
    return Definition(platform=spec.platform, source=str(path), description=spec.description, commands=commands), []


def load_for(config: AgentConfig) -> Definitions:
    """The definitions for the config's CLI-polled devices; a device whose platform has none is an error."""
    definitions = load_definitions(config.pollers.ssh.definitions_dir)
    for index, device in enumerate(config.devices):
        if device.ssh is None or not device.ssh.poll or device.platform not in NETMIKO_DEVICE_TYPES:
            continue
        if device.platform not in definitions:
            raise ConfigError(f"devices[{index}] ({device.id}): no SSH polling definition for platform "
                              f"{device.platform!r} (known: {', '.join(sorted(definitions)) or 'none'})")
    return definitions
