"""Typed playbook parameters: validated before anything runs, then substituted into commands.

The engineer's values never reach a shell or a CLI as they were typed. Each
one must fit its declared type (a string `pattern` matched whole, an enum's
`choices`, an integer's range), and, whatever the pattern allows, it may not
hold a control character (newline, tab, escape) anywhere, may not start
with `-` (it would be read as an option), and on a network CLI may not hold
`;`, `|`, a backtick, `$` or `?` (separator, pipe, substitution, the CLI's
help key). On `linux` and `agent` every value is also shell-quoted.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Literal, get_args

from agent.configfile import Bounds, Check
from playbooks.errors import ParamError
from playbooks.text import FORBID_UNKNOWN, Text, substitute

# `agent`: a command the agent runs on its own machine (ping, traceroute), through a shell like `linux`.
Platform = Literal["linux", "cisco_ios", "huawei_vrp", "hp_comware", "agent"]
PLATFORMS: tuple[str, ...] = get_args(Platform)
SHELL_PLATFORMS = frozenset({"linux", "agent"})
CLI_FORBIDDEN = frozenset(";|`$?")
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")
_CHOICE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+-]*")


def _compiles(pattern: str | None) -> str | None:
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
    return pattern


def _short(value: str) -> str:
    return repr(value if len(value) <= 60 else value[:57] + "...")


def refuse_characters(name: str, value: str, platform: str | None) -> None:
    """Raise ParamError if `value` holds what no pattern may let through (`platform` None: the strictest rules)."""
    for char in value:
        if not char.isprintable():
            raise ParamError(name, f"contains the control character {char!r}; newlines, tabs and escapes are never allowed")
    if platform not in SHELL_PLATFORMS:
        bad = "".join(sorted(set(value) & CLI_FORBIDDEN))
        if bad:
            raise ParamError(
                name, f"contains {bad!r}: a network CLI would read it as a separator, pipe, variable or help request"
            )
    if value.startswith("-"):
        raise ParamError(name, "must not start with '-' (the command would read it as an option)")


@dataclass(frozen=True, kw_only=True)
class Param:
    __pydantic_config__ = FORBID_UNKNOWN
    type: Literal["string", "enum", "integer"]
    description: Text | None = None
    required: bool | None = None            # default: required unless a default is given
    default: str | int | None = None
    example: str | None = None              # a valid value, shown in help; needed by a string without a default
    pattern: Annotated[str | None, Check(_compiles)] = None      # string: the whole value must match
    max_length: Annotated[int, Bounds(ge=1, le=1024)] = 128      # string
    choices: tuple[str, ...] = ()                                # enum
    min: int | None = None                                       # integer
    max: int | None = None                                       # integer

    def __post_init__(self) -> None:
        misplaced = {
            "string": ("choices", "min", "max"),
            "enum": ("pattern", "min", "max", "example"),
            "integer": ("pattern", "choices", "example"),
        }[self.type]
        for key in misplaced:
            if getattr(self, key) not in (None, ()):
                raise ValueError(f"{key}: does not apply to a parameter of type {self.type}")
        if self.type == "string" and self.pattern is None:
            raise ValueError("pattern: a string parameter needs a pattern that its values must match")
        if self.type == "enum":
            if not self.choices:
                raise ValueError("choices: an enum parameter needs its choices")
            for choice in self.choices:
                if not _CHOICE.fullmatch(choice):
                    raise ValueError(f"choices: {choice!r} is not a plain word (letters, digits, . _ : / + -)")
        if self.type == "integer" and self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min: is above max")
        if self.required is None:
            object.__setattr__(self, "required", self.default is None)
        elif self.required and self.default is not None:
            raise ValueError("required: a parameter with a default is not required")
        for key in ("default", "example"):
            value = getattr(self, key)
            if value is not None:
                try:
                    self.validate(key, value, None)
                except ParamError as exc:
                    raise ValueError(f"{key}: {exc.problem}") from None
        if self.type == "string" and self.default is None and self.example is None:
            raise ValueError("example: a string parameter without a default needs an example value")

    def sample(self) -> str | None:
        """A valid value, to try the commands with at load time."""
        if self.default is not None:
            return str(self.default)
        if self.type == "enum":
            return self.choices[0]
        if self.type == "integer":
            return str(self.min if self.min is not None else 1)
        return self.example

    def validate(self, name: str, value: object, platform: str | None) -> str:
        """The value as it will be substituted (before quoting), or ParamError."""
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ParamError(name, f"expected text, got {type(value).__name__}")
        text = str(value)
        if self.type == "integer":
            if not _INTEGER.fullmatch(text.strip()):
                raise ParamError(name, f"{_short(text)} is not a whole number")
            number = int(text)
            if self.min is not None and number < self.min:
                raise ParamError(name, f"{number} is below the minimum {self.min}")
            if self.max is not None and number > self.max:
                raise ParamError(name, f"{number} is above the maximum {self.max}")
            return str(number)
        if self.type == "string" and len(text) > self.max_length:
            raise ParamError(name, f"is {len(text)} characters long; at most {self.max_length} are allowed")
        refuse_characters(name, text, platform)
        if self.type == "enum":
            if text not in self.choices:
                raise ParamError(name, f"{_short(text)} is not one of {', '.join(self.choices)}")
            return text
        assert self.pattern is not None
        if not re.fullmatch(self.pattern, text):
            raise ParamError(name, f"{_short(text)} does not match the pattern {self.pattern}")
        return text


def validate_all(params: Mapping[str, Param], given: Mapping[str, object], platform: str) -> dict[str, str | None]:
    """Every parameter's value (None: optional and not given), or ParamError for the first problem."""
    for name in given:
        if name not in params:
            known = ", ".join(sorted(params)) or "none"
            raise ParamError(name, f"this playbook has no such parameter (it takes: {known})")
    values: dict[str, str | None] = {}
    for name, param in params.items():
        if name in given and given[name] is not None:
            values[name] = param.validate(name, given[name], platform)
        elif param.default is not None:
            values[name] = param.validate(name, param.default, platform)
        elif param.required:
            raise ParamError(name, "is required")
        else:
            values[name] = None
    return values


def render(command: str, values: Mapping[str, str | None], platform: str) -> str:
    """`command` with its placeholders filled; on a shell every value is quoted, an omitted one is left out."""
    if platform in SHELL_PLATFORMS:
        filled = {name: "" if value is None else shlex.quote(value) for name, value in values.items()}
        return substitute(command, filled).strip()
    filled = {name: value or "" for name, value in values.items()}
    return substitute(command, filled).strip()
