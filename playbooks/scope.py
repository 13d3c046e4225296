"""What the validators of one playbook file need to know about the parts already read.

pydantic validates a playbook top-down in field order: platforms, then
params, then each step's command, parse and findings. A placeholder is
checked against the params, a finding's field against the step's parser,
so each part leaves what it validated here for the parts after it. `None`
means "that part was invalid": its error is already reported, and the
checks that depend on it stay silent instead of piling up echoes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

@dataclass
class Scope:
    source: str                                 # the file being read
    content_hash: str
    template_roots: tuple[Path, ...]            # where `template:` paths are looked up, in order
    platforms: tuple[str, ...] | None = ()
    params: Mapping[str, Any] | None = field(default_factory=dict)
    param_names: frozenset[str] = frozenset()   # known even when a parameter's definition is invalid
    step_commands: Mapping[str, str] | None = None
    step_parsers: Mapping[str, Any] | None = field(default_factory=dict)
    templates: dict[str, tuple[str, ...]] = field(default_factory=dict)  # compiled in this load: path → fields


_CURRENT: ContextVar[Scope | None] = ContextVar("playbook_scope", default=None)


@contextmanager
def reading(scope: Scope) -> Iterator[Scope]:
    token = _CURRENT.set(scope)
    try:
        yield scope
    finally:
        _CURRENT.reset(token)


def current() -> Scope:
    scope = _CURRENT.get()
    if scope is None:
        raise RuntimeError("playbooks are validated only through playbooks.library.load()")
    return scope


def forget(name: str) -> Callable[[Any], Any]:
    """For `Check(..., before=True)`: while the field is being validated, what it holds is unknown."""

    def before(raw: Any) -> Any:
        setattr(current(), name, None)
        return raw

    return before


def remember(name: str) -> Callable[[Any], Any]:
    """For `Check(...)`: the field validated; later parts may rely on its value."""

    def after(validated: Any) -> Any:
        setattr(current(), name, validated)
        return validated

    return after
