"""Read a YAML file into plain Python data plus the line each value came from.

Apart from `agent.configfile` so PyYAML is imported only while a file is
read: the running agent validates its config in a forked child and never
needs it afterwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from agent.configfile import ConfigError, Path_

MERGE_TAG = "tag:yaml.org,2002:merge"


def _construct(node: yaml.Node, path: Path_, lines: dict[Path_, int], source: str) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        key_lines: dict[Any, int] = {}
        merged: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:  # `<<: *defaults`: explicit keys win, whatever their order
                _merge(value_node, path, lines, source, merged)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigError(f"{source}:{key_node.start_mark.line + 1}: a key must be a plain word")
            key = _scalar(key_node)
            if key in key_lines:
                raise ConfigError(
                    f"{source}:{key_node.start_mark.line + 1}: duplicate key {key!r} "
                    f"(first given on line {key_lines[key]})"
                )
            key_lines[key] = key_node.start_mark.line + 1
            result[key] = _construct(value_node, path + (key,), lines, source)
        for key, value in merged.items():
            result.setdefault(key, value)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, path + (i,), lines, source) for i, item in enumerate(node.value)]
    return _scalar(node)


def _merge(value_node: yaml.Node, path: Path_, lines: dict[Path_, int], source: str, into: dict[Any, Any]) -> None:
    sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
    for mapping in sources:
        if not isinstance(mapping, yaml.MappingNode):
            raise ConfigError(f"{source}:{mapping.start_mark.line + 1}: `<<` merges only mappings")
        their_lines: dict[Path_, int] = {}
        for key, value in _construct(mapping, path, their_lines, source).items():
            into.setdefault(key, value)
        for where, line in their_lines.items():
            if where != path:
                lines.setdefault(where, line)


def _scalar(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def read(path: Path) -> tuple[Any, dict[Path_, int]]:
    """The document at `path` as plain Python data, and the line of every value in it."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise ConfigError(f"{where}: not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    lines: dict[Path_, int] = {}
    if root is None:
        return {}, lines
    try:
        data = _construct(root, (), lines, source)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        where = f"{source}:{mark.line + 1}" if mark else source
        raise ConfigError(f"{where}: {exc.problem}") from None
    return data, lines


