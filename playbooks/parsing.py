"""Turning a step's output into rows: TextFSM templates, ours or ntc-templates', plus computed fields.

Both kinds end up as one template file: `ntc: true` is resolved at load
through ntc-templates' own index (platform + command, as `parse_output`
would), `template:` is a path under a `templates/` folder. Every row is a
`dict[str, str]` keyed by the template's Value names in lower case (as
ntc-templates' `parse_output` does); a `List` value is joined with ", ".

`compute` adds fields by arithmetic over a row's numbers, because a finding
compares one field with a constant and a real question is often a ratio:
`mem_available_pct: memavailable * 100 / memtotal`. Only + - * / and
parentheses over field names and numbers; a field that is empty or not a
number, or a division by zero, makes the computed field empty.

textfsm is imported only when a template is compiled or used, never by
importing this module: the agent imports the playbook model at start.
"""

from __future__ import annotations

import ast
import io
import math
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Annotated

from agent.configfile import Check
from playbooks import scope
from playbooks.text import FORBID_UNKNOWN

FIELD = re.compile(r"[a-z][a-z0-9_]{0,63}")
_NUMBER = re.compile(r"\s*([-+]?[0-9][0-9,]*(?:\.[0-9]+)?)\s*(?:%|[A-Za-z][A-Za-z/]*)?\s*")


def number(value: str) -> float | None:
    """`"95%"`, `"1,024"`, `"1000000 Kbit"`, `"0.52"` → a float; anything else (`""`, `"Gi1/0/1"`, `"-"`) → None."""
    match = _NUMBER.fullmatch(value)
    if not match:
        return None
    try:
        return float(match[1].replace(",", ""))
    except ValueError:
        return None


def _field_name(name: str) -> str:
    if not FIELD.fullmatch(name):
        raise ValueError(f"{name!r} is not a field name (lower-case letters, digits and _)")
    return name


# ---------------------------------------------------------------- compute

_OPERATORS = {ast.Add: float.__add__, ast.Sub: float.__sub__, ast.Mult: float.__mul__, ast.Div: float.__truediv__}


@lru_cache(maxsize=512)
def _expression(text: str) -> ast.expr:
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"{text!r} is not an expression: {exc.msg}") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            continue
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            continue
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            continue
        if isinstance(node, ast.Name) and FIELD.fullmatch(node.id):
            continue
        if isinstance(node, (ast.Expression, ast.Load, ast.USub, ast.UAdd)) or type(node) in _OPERATORS:
            continue
        raise ValueError(f"{text!r}: only + - * / ( ) over field names and numbers are allowed")
    return tree.body


def expression_names(text: str) -> set[str]:
    return {node.id for node in ast.walk(_expression(text)) if isinstance(node, ast.Name)}


def _evaluate(node: ast.expr, row: Mapping[str, str]) -> float | None:
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return number(row.get(node.id, ""))
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, row)
        return None if operand is None else (-operand if isinstance(node.op, ast.USub) else operand)
    assert isinstance(node, ast.BinOp)
    left, right = _evaluate(node.left, row), _evaluate(node.right, row)
    if left is None or right is None or (isinstance(node.op, ast.Div) and right == 0):
        return None
    return _OPERATORS[type(node.op)](left, right)


def format_number(value: float) -> str:
    """At most two decimals, no trailing zeros, never exponent notation."""
    rounded = round(value, 2)
    if rounded == int(rounded):
        return str(int(rounded))
    return f"{rounded:.2f}".rstrip("0").rstrip(".")


def compute(expression: str, row: Mapping[str, str]) -> str:
    value = _evaluate(_expression(expression), row)
    return "" if value is None or not math.isfinite(value) else format_number(value)


# ---------------------------------------------------------------- templates

_sources: dict[str, str] = {}
_sources_lock = threading.Lock()


def _source(path: str) -> str:
    with _sources_lock:
        text = _sources.get(path)
        if text is None:
            text = _sources[path] = Path(path).read_text(encoding="utf-8")
        return text


def template_fields(path: Path) -> tuple[str, ...]:
    """The (lower-cased) Value names of the TextFSM template at `path`; ValueError if it does not compile."""
    import textfsm

    try:
        text = path.read_text(encoding="utf-8")
        fsm = textfsm.TextFSM(io.StringIO(text))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    except textfsm.TextFSMTemplateError as exc:
        raise ValueError(f"{path} is not a valid TextFSM template: {exc}") from None
    names = tuple(name.lower() for name in fsm.header)
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: two Values differ only in case")
    return names


def run_template(path: str, output: str) -> list[dict[str, str]]:
    """Parse `output` with the template at `path`; textfsm's errors pass through."""
    import textfsm

    fsm = textfsm.TextFSM(io.StringIO(_source(path)))
    header = [name.lower() for name in fsm.header]
    rows = []
    for record in fsm.ParseText(output.replace("\r\n", "\n")):
        rows.append(
            {
                name: ", ".join(value) if isinstance(value, list) else ("" if value is None else str(value))
                for name, value in zip(header, record, strict=True)
            }
        )
    return rows


def ntc_templates_dir() -> Path:
    import ntc_templates

    return Path(ntc_templates.__file__).resolve().parent / "templates"


def ntc_template(platform: str, command: str) -> Path:
    """The ntc-templates file for `command` on `platform`, found in ntc-templates' index; ValueError if none.

    Stricter than `parse_output`: its index is matched as a prefix, so Huawei's
    `d[[ir]]` ("dir") claims every `display ...` command the index does not
    list. Here the matched text must end where a word of the command ends.
    """
    from textfsm import clitable

    directory = ntc_templates_dir()
    index = clitable.CliTable("index", str(directory)).index
    for row in index.compiled:
        match = row["Command"].match(command) if row["Platform"].fullmatch(platform) else None
        if match and (match.end() == len(command) or command[match.end()] == " "):
            names = index.index[row.row]["Template"]
            break
    else:
        raise ValueError(f"ntc-templates has no template for {command!r} on {platform}; write one under templates/")
    if ":" in names:
        raise ValueError(f"ntc-templates merges several templates for {command!r} ({names}); write one under templates/")
    return directory / names


def resolve_template(relative: str, roots: tuple[Path, ...]) -> Path:
    """`relative` (e.g. `huawei_vrp/display_fan.textfsm`) in the first templates root that has it."""
    parts = PurePosixPath(relative)
    if parts.is_absolute() or ".." in parts.parts or "\\" in relative:
        raise ValueError(f"{relative!r}: give a path relative to the templates folder, without '..'")
    for root in roots:
        candidate = root / parts
        if candidate.is_file():
            return candidate
    raise ValueError(f"no template {relative!r} in {' or '.join(str(r) for r in roots)}")


# ---------------------------------------------------------------- the parse spec of one step on one platform


@dataclass(frozen=True, kw_only=True)
class Parser:
    """`ntc: true` or `template: <path>`, plus `compute`. `path` and `fields` are filled in at load."""

    __pydantic_config__ = FORBID_UNKNOWN
    ntc: bool = False
    template: str | None = None
    compute: Mapping[Annotated[str, Check(_field_name)], str] = field(default_factory=dict)
    path: str = field(init=False, default="")                 # the template file, absolute
    fields: tuple[str, ...] = field(init=False, default=())   # template Values (lower case), then computed fields

    def __post_init__(self) -> None:
        if self.ntc == (self.template is not None):
            raise ValueError("give either `ntc: true` or `template: <path under templates/>`")
        for name, expression in self.compute.items():
            try:
                expression_names(expression)
            except ValueError as exc:
                raise ValueError(f"compute.{name}: {exc}") from None
        if self.template is not None:
            self.bind(resolve_template(self.template, scope.current().template_roots))

    def bind(self, path: Path) -> None:
        """Attach the template file (checked to compile) and check `compute` against its fields."""
        known = scope.current().templates
        key = str(path)
        if key not in known:
            known[key] = template_fields(path)
        fields = list(known[key])
        for name, expression in self.compute.items():
            if name in fields:
                raise ValueError(f"compute.{name}: the template already has a field {name}")
            unknown = sorted(expression_names(expression) - set(fields))
            if unknown:
                raise ValueError(
                    f"compute.{name}: {', '.join(unknown)} is not a field of {path.name} (it has {', '.join(fields)})"
                )
            fields.append(name)
        object.__setattr__(self, "path", key)
        object.__setattr__(self, "fields", tuple(fields))

    def parse(self, output: str) -> list[dict[str, str]]:
        rows = run_template(self.path, output)
        for row in rows:
            for name, expression in self.compute.items():
                row[name] = compute(expression, row)
        return rows
