"""A playbook as loaded: its steps, and what it does with parameters, output and rows.

The classes are plain frozen dataclasses that pydantic validates while a
file is read (`playbooks.library.load`), with the checks that need the rest
of the file (placeholders against params, finding fields against the
step's parser) run through `playbooks.scope`. Once loaded they import
neither pydantic nor YAML, and pickle, so the agent can load its playbooks
in a forked child the way it loads its config (`agent.config.load_isolated`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from agent.configfile import Bounds, Check, Duration
from playbooks import scope
from playbooks.errors import ParseError, PlaybookError
from playbooks.findings import Finding, Rule
from playbooks.params import SHELL_PLATFORMS, Param, Platform, render, validate_all
from playbooks.parsing import Parser, ntc_template
from playbooks.text import FORBID_UNKNOWN, Text, check_known, placeholders, quoted_placeholders

_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


def _name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(f"{value!r} is not a usable name: lower-case letters, digits and _, starting with a letter")
    return value


Name = Annotated[str, Check(_name)]


# ---------------------------------------------------------------- steps


def _command_text(text: str) -> str:
    if not text.strip():
        raise ValueError("the command is empty")
    check_known(text, scope.current().param_names, "this playbook's parameters")
    for name in quoted_placeholders(text):
        raise ValueError(f"{{{name}}} is inside quotes; write it bare, every value is shell-quoted")
    return text


def _commands(commands: Mapping[str, str]) -> Mapping[str, str]:
    current = scope.current()
    if current.platforms is not None:
        for platform in commands:
            if platform not in current.platforms:
                raise ValueError(f"{platform}: not one of the playbook's platforms ({', '.join(current.platforms)})")
    for platform, text in commands.items():
        if platform not in SHELL_PLATFORMS and "\n" in text.strip():
            raise ValueError(f"{platform}: a network CLI command is a single line")
    current.step_commands = dict(commands)
    return commands


def _spread_parse(raw: Any) -> Any:
    """`parse: {ntc: true}` applies to every platform the step has a command for."""
    current = scope.current()
    current.step_parsers = None
    if isinstance(raw, Mapping) and raw and set(raw) <= {"ntc", "template", "compute"}:
        return {platform: raw for platform in current.step_commands or ()}
    return raw


def _samples(params: Mapping[str, Param], names: set[str]) -> list[dict[str, str | None]]:
    """Values to try a command with: every parameter it uses set to a valid sample, then each optional one left out."""
    full = {name: params[name].sample() for name in names}
    variants = [full]
    for name in names:
        if not params[name].required and params[name].default is None:
            variants.append({**full, name: None})
    return variants


def _bind_parsers(parsers: Mapping[str, Parser]) -> Mapping[str, Parser]:
    current = scope.current()
    commands, params = current.step_commands, current.params or {}
    if commands is None:  # already reported; nothing to check against
        return parsers
    for platform, parser in parsers.items():
        if platform not in commands:
            raise ValueError(f"{platform}: the step has no command for {platform}, so no output to parse")
        if parser.ntc:
            names = set(placeholders(commands[platform]))
            if not names <= set(params):  # a parameter it uses is invalid, and already reported
                return parsers
            variants = _samples(params, names)
            found = {_ntc_template(platform, render(commands[platform], v, platform)) for v in variants}
            if len(found) > 1:
                raise ValueError(f"{platform}: ntc-templates picks different templates depending on the parameters")
            parser.bind(found.pop())
    current.step_parsers = dict(parsers)
    return parsers


def _param_names(raw: Any) -> Any:
    current = scope.current()
    current.params = None
    current.param_names = frozenset(raw) if isinstance(raw, Mapping) else frozenset()
    return raw


def _ntc_template(platform: str, command: str) -> Path:
    try:
        return ntc_template(platform, command)
    except ValueError as exc:
        raise ValueError(f"{platform}: {exc}") from None


def _begin_step(raw: Any) -> Any:
    current = scope.current()
    current.step_commands = None
    current.step_parsers = {}
    return raw


@dataclass(frozen=True, kw_only=True)
class Step:
    __pydantic_config__ = FORBID_UNKNOWN
    name: Name
    command: Annotated[Mapping[Platform, Annotated[str, Check(_command_text)]], Check(_commands)]
    timeout: Annotated[float, Duration, Bounds(ge=1, le=3600)]        # seconds, this step alone
    title: Text | None = None
    parse: Annotated[
        Mapping[Platform, Parser], Check(_spread_parse, before=True), Check(_bind_parsers)
    ] = field(default_factory=dict)
    findings: tuple[Rule, ...] = ()


@dataclass(frozen=True)
class PlannedStep:
    """One command ready to send: parameters validated and substituted."""

    name: str
    command: str
    timeout_s: float


# ---------------------------------------------------------------- playbooks


def _distinct(platforms: tuple[str, ...]) -> tuple[str, ...]:
    if not platforms:
        raise ValueError("name at least one platform")
    if len(set(platforms)) != len(platforms):
        raise ValueError("a platform is listed twice")
    return platforms


@dataclass(frozen=True, kw_only=True)
class Playbook:
    __pydantic_config__ = FORBID_UNKNOWN
    id: Name
    title: Text
    description: Text
    platforms: Annotated[
        tuple[Platform, ...],
        Check(scope.forget("platforms"), before=True),
        Check(_distinct),
        Check(scope.remember("platforms")),
    ]
    mode: Literal["diagnostic", "change"]
    params: Annotated[
        Mapping[Name, Param], Check(_param_names, before=True), Check(scope.remember("params"))
    ] = field(default_factory=dict)
    steps: tuple[Annotated[Step, Check(_begin_step, before=True)], ...]
    content_hash: str = field(init=False, default="")   # sha256 of the file's bytes: what a run names
    source: str = field(init=False, default="")         # the file it was read from

    def __post_init__(self) -> None:
        current = scope.current()
        object.__setattr__(self, "content_hash", current.content_hash)
        object.__setattr__(self, "source", current.source)

    def problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """What is wrong across parts of the file, each with the place (as a path into the file) to report it at."""
        found: list[tuple[tuple[str | int, ...], str]] = []
        if not self.steps:
            found.append((("steps",), "a playbook needs at least one step"))
        seen: set[str] = set()
        for index, step in enumerate(self.steps):
            if step.name in seen:
                found.append((("steps", index, "name"), f"another step is already called {step.name!r}"))
            seen.add(step.name)
        for index, platform in enumerate(self.platforms):
            if not any(platform in step.command for step in self.steps):
                found.append((("platforms", index), f"no step has a command for {platform}"))
        used = {name for step in self.steps for text in step.command.values() for name in placeholders(text)}
        for name in self.params:
            if name not in used:
                found.append((("params", name), "no command uses it"))
        return found

    # -------------------------------------------------------- what callers use

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise PlaybookError(f"playbook {self.id} has no step {name!r}")

    def _require(self, platform: str) -> None:
        if platform not in self.platforms:
            raise PlaybookError(
                f"playbook {self.id} does not support platform {platform!r} (it supports {', '.join(self.platforms)})"
            )

    def plan(self, platform: str, params: Mapping[str, object]) -> list[PlannedStep]:
        """The commands to run on `platform`, every parameter validated first (ParamError names the one refused)."""
        self._require(platform)
        values = validate_all(self.params, params, platform)
        return [
            PlannedStep(step.name, render(step.command[platform], values, platform), step.timeout)
            for step in self.steps
            if platform in step.command
        ]

    def parse(self, step_name: str, platform: str, output: str) -> list[dict[str, str]]:
        """The rows in one step's output ([] if the step is not parsed on `platform`); ParseError if it does not fit."""
        step = self.step(step_name)
        self._require(platform)
        parser = step.parse.get(platform)
        if parser is None:
            return []
        import textfsm

        try:
            return parser.parse(output)
        except textfsm.TextFSMError as exc:
            raise ParseError(self.id, step_name, platform, str(exc)) from None

    def findings(self, platform: str, rows_by_step: Mapping[str, Sequence[Mapping[str, str]]]) -> list[Finding]:
        """Every finding the rows produce, in step order then rule order."""
        self._require(platform)
        found: list[Finding] = []
        for step in self.steps:
            rows = rows_by_step.get(step.name) or ()
            for rule in step.findings:
                if platform in step.parse and rule.applies_to(platform, tuple(step.parse)):
                    found += rule.evaluate(step.name, rows)
        return found
