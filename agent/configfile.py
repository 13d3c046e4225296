"""Load a YAML file into a pydantic model and report errors as `file:line: field: what`.

PyYAML's plain loaders forget where a value came from, so a pydantic error
could only say `devices.2.address`. Here the document is composed into nodes
first and every value's line is remembered by its path; a validation error is
then printed at the line of the deepest path it names. The collector uses this
module too, so both programs speak about their config files the same way.

This module does not import pydantic: the markers below (`Duration`, `Size`,
`Check`, `Bounds`) only describe a check, and pydantic reads them when it
validates. The agent's long-running process never imports pydantic (it costs
~14 MiB of the agent's 40 MiB budget); see `agent.config.load_isolated`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

Model = TypeVar("Model")
Path_ = tuple[str | int, ...]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|KB|MB|GB)?\s*$")
_SIZE_UNITS = {"B": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3, "KB": 1000, "MB": 1000**2, "GB": 1000**3}


class ConfigError(Exception):
    """A config file is unreadable or invalid; `str()` is ready to print to a user."""


def parse_duration(value: Any) -> float:
    """Seconds from `30s`, `5m`, `1.5h`, `7d`, `250ms`, or a bare number of seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 5m or 1h")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not a duration; write it like 30s, 5m, 1h or 7d")
        seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2) or "s"]
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


def parse_size(value: Any) -> int:
    """Bytes from `8MiB`, `512KiB`, `1GB`, or a bare number of bytes."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as 4MiB")
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not a size; write it like 512KiB, 8MiB or 1GiB")
        size = int(float(match.group(1)) * _SIZE_UNITS[match.group(2) or "B"])
    if size < 0:
        raise ValueError("a size cannot be negative")
    return size


class Check:
    """`Annotated[T, Check(fn)]`: after T is validated, `fn(value)` may raise ValueError or return a new value."""

    def __init__(self, function: Callable[[Any], Any], before: bool = False) -> None:
        self.function = function
        self.before = before

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema  # only ever imported while validating

        if self.before:
            return core_schema.no_info_before_validator_function(self.function, handler(source))
        return core_schema.no_info_after_validator_function(self.function, handler(source))


def Bounds(ge: float | None = None, le: float | None = None) -> Check:  # noqa: N802 - reads like a type
    """A number within [ge, le]."""

    def check(value: float) -> float:
        if ge is not None and value < ge:
            raise ValueError(f"must be at least {ge}")
        if le is not None and value > le:
            raise ValueError(f"must be at most {le}")
        return value

    return Check(check)


Duration = Check(parse_duration, before=True)
Size = Check(parse_size, before=True)

_MESSAGES = {
    # pydantic says these differently for models and dataclasses; users need one word for a typo.
    "extra_forbidden": "unknown setting (misspelt?)",
    "unexpected_keyword_argument": "unknown setting (misspelt?)",
    "missing_keyword_argument": "Field required",
}


def read_yaml(path: Path) -> tuple[Any, dict[Path_, int]]:
    """The document at `path` as plain Python data, and the line of every value in it."""
    from agent import yamlsource  # PyYAML costs the running agent 1.3 MiB: load it only to read a file

    return yamlsource.read(path)


def format_location(loc: Path_) -> str:
    """`('devices', 2, 'address')` → `devices[2].address`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _line_for(loc: Path_, lines: dict[Path_, int]) -> int | None:
    for end in range(len(loc), -1, -1):
        line = lines.get(tuple(loc[:end]))
        if line is not None:
            return line
    return None


def load_or_exit(program: str, load: Callable[[str | Path], Model], path: str | Path) -> Model:
    """For a command's `main()`: the config, or exit 2 with the problems and no traceback."""
    try:
        return load(path)
    except ConfigError as exc:
        print(f"{program}: invalid config:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from None


def load_model(path: str | Path, model: type[Model]) -> Model:
    """Read `path` and validate it as `model` (a pydantic model or a dataclass).

    Raises `ConfigError` listing every problem with its line.
    """
    import pydantic

    path = Path(path)
    data, lines = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: expected a mapping of settings at the top level")
    try:
        return pydantic.TypeAdapter(model).validate_python(data)
    except pydantic.ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False, include_input=False):
            loc = tuple(p for p in error["loc"] if not isinstance(p, str) or not p.startswith("function-"))
            line = _line_for(loc, lines)
            where = f"{path}:{line}" if line else str(path)
            message = _MESSAGES.get(error["type"]) or error["msg"].removeprefix("Value error, ")
            problems.append(f"{where}: {format_location(loc)}: {message}")
        raise ConfigError("\n".join(problems)) from None
