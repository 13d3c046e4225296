"""`{name}` placeholders, and the bilingual `Text` that findings are written in.

Not `str.format`: commands are shell and CLI text full of braces (`awk '{print $1}'`,
`${HOME}`), so only a lower-case identifier in single braces is a placeholder.
`{{name}}` writes a literal `{name}`; every other brace is left alone. A
placeholder that names nothing known is a load error, never an empty string.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from agent.configfile import Check

_PLACEHOLDER = re.compile(r"\{\{([a-z][a-z0-9_]*)\}\}|(?<!\$)\{([a-z][a-z0-9_]*)\}")
FORBID_UNKNOWN = {"extra": "forbid"}


def placeholders(template: str) -> list[str]:
    """The names of the placeholders in `template`, in order, repeats included."""
    return [match[2] for match in _PLACEHOLDER.finditer(template) if match[2]]


def substitute(template: str, values: Mapping[str, str]) -> str:
    """`template` with each placeholder replaced by its value (every name must be in `values`)."""
    return _PLACEHOLDER.sub(lambda m: "{" + m[1] + "}" if m[1] else values[m[2]], template)


def quoted_placeholders(command: str) -> list[str]:
    """Placeholders that sit inside shell quotes, where the quoting Vigil adds would be taken literally."""
    quoted: list[str] = []
    starts = {m.start(): m[2] for m in _PLACEHOLDER.finditer(command) if m[2]}
    single = double = escaped = False
    for position, char in enumerate(command):
        if position in starts and (single or double):
            quoted.append(starts[position])
        if escaped:
            escaped = False
        elif char == "\\" and not single:
            escaped = True
        elif char == "'" and not double:
            single = not single
        elif char == '"' and not single:
            double = not double
    return quoted


def check_known(template: str, known: set[str] | frozenset[str], what: str) -> None:
    """Raise ValueError naming the first placeholder of `template` that is not in `known`."""
    for name in placeholders(template):
        if name not in known:
            choices = ", ".join(sorted(known)) or "none"
            raise ValueError(f"unknown placeholder {{{name}}}: {what} are {choices}")


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


@dataclass(frozen=True)
class Text:
    """One message in Chinese and English; `{field}` placeholders are filled by `render`."""

    __pydantic_config__ = FORBID_UNKNOWN
    zh: Annotated[str, Check(_not_blank)]
    en: Annotated[str, Check(_not_blank)]

    def names(self) -> set[str]:
        return set(placeholders(self.zh)) | set(placeholders(self.en))

    def render(self, values: Mapping[str, str]) -> Text:
        return Text(zh=substitute(self.zh, values), en=substitute(self.en, values))

    def to_dict(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}
