"""agent/configfile.py: durations, sizes, and errors reported as `file:line: field: what`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import pydantic
import pytest
import yaml

from agent.configfile import (
    ConfigError,
    Duration,
    Size,
    format_location,
    load_model,
    parse_duration,
    parse_size,
    read_yaml,
)


class _Device(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    id: str
    kind: Literal["switch", "router", "firewall"]
    address: str = ""


class _Settings(pydantic.BaseModel):
    """A small stand-in for a real config, so these tests exercise only configfile."""

    model_config = pydantic.ConfigDict(extra="forbid")
    name: str
    interval: Annotated[float, Duration] = 30.0
    buffer: Annotated[int, Size] = 1024
    devices: list[_Device] = []


def _write(tmp_path: Path, text: str | bytes, name: str = "settings.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path, model: type[pydantic.BaseModel] = _Settings) -> str:
    with pytest.raises(ConfigError) as caught:
        load_model(path, model)
    return str(caught.value)


# ---------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30.0),
        ("5m", 300.0),
        ("1.5h", 5400.0),
        ("7d", 7 * 86400.0),
        ("250ms", 0.25),
        ("45", 45.0),
        (" 10 s ", 10.0),
        (30, 30.0),
        (1.5, 1.5),
        (0, 0.0),
    ],
)
def test_parse_duration_accepts_units_and_bare_numbers(text: object, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)
    assert isinstance(parse_duration(text), float)


@pytest.mark.parametrize("text", ["30x", "fast", "", "1h30m", "5 minutes", "-5s", "s", "1e3s"])
def test_parse_duration_rejects_nonsense_with_an_example_of_the_right_form(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(text)
    message = str(caught.value)
    assert repr(text) in message
    assert "30s" in message and "5m" in message


def test_parse_duration_rejects_negative_numbers_and_booleans() -> None:
    with pytest.raises(ValueError, match="negative"):
        parse_duration(-1)
    with pytest.raises(ValueError, match="duration"):
        parse_duration(True)


# --------------------------------------------------------------------- sizes


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("8MiB", 8 * 1024**2),
        ("512KiB", 512 * 1024),
        ("1GiB", 1024**3),
        ("1GB", 10**9),
        ("64KB", 64_000),
        ("3MB", 3_000_000),
        ("1.5KiB", 1536),
        ("100B", 100),
        ("100", 100),
        (4096, 4096),
    ],
)
def test_parse_size_accepts_binary_and_decimal_units(text: object, size: int) -> None:
    assert parse_size(text) == size
    assert isinstance(parse_size(text), int)


@pytest.mark.parametrize("text", ["lots", "8 furlongs", "", "MiB", "8TiB"])
def test_parse_size_rejects_nonsense_with_an_example(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_size(text)
    assert repr(text) in str(caught.value)
    assert "MiB" in str(caught.value)


def test_parse_size_rejects_negative_numbers_and_booleans() -> None:
    with pytest.raises(ValueError, match="negative"):
        parse_size(-1)
    with pytest.raises(ValueError, match="size"):
        parse_size(False)


def test_durations_and_sizes_are_parsed_inside_a_model(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: lab\ninterval: 250ms\nbuffer: 8MiB\n")
    settings = load_model(path, _Settings)
    assert settings.interval == pytest.approx(0.25)
    assert settings.buffer == 8 * 1024**2


# -------------------------------------------------------- YAML-level errors


def test_yaml_syntax_error_is_reported_as_file_line_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: lab\ninterval: 5s: 3\n")
    message = _error(path)
    assert message.startswith(f"{path}:2:")
    line_col = message[len(str(path)) + 1 :].split(":")[:2]
    assert line_col[0] == "2" and line_col[1].isdigit()
    assert "not valid YAML" in message


def test_duplicate_key_is_reported_with_both_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: lab\ninterval: 5s\nname: other\n")
    message = _error(path)
    assert message.startswith(f"{path}:3:")
    assert "duplicate key 'name'" in message
    assert "first given on line 1" in message


def test_duplicate_nested_key_is_reported_at_its_own_lines(tmp_path: Path) -> None:
    text = "name: lab\ndevices:\n  - id: sw1\n    kind: switch\n    id: sw2\n"
    message = _error(_write(tmp_path, text))
    assert ":5: duplicate key 'id' (first given on line 3)" in message


def test_duplicate_key_with_a_block_value_points_at_the_first_key(tmp_path: Path) -> None:
    text = "collector:\n  address: a:1\ncollector:\n  address: b:2\n"
    message = str(pytest.raises(ConfigError, read_yaml, _write(tmp_path, text)).value)
    assert ":3: duplicate key 'collector'" in message
    assert "first given on line 1" in message


def test_non_scalar_key_is_refused_with_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: lab\n? [a, b]\n: 1\n")
    message = _error(path)
    assert message.startswith(f"{path}:2:")
    assert "key must be a plain word" in message


def test_unknown_tag_is_a_config_error_with_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: lab\ninterval: !vault abc\n")
    message = _error(path)
    assert message.startswith(f"{path}:2:")
    assert "!vault" in message


def test_merge_keys_load_like_yaml_safe_load(tmp_path: Path) -> None:
    text = "base: &base\n  kind: switch\ndevice:\n  <<: *base\n  id: sw1\n"
    data, _ = read_yaml(_write(tmp_path, text))
    assert data == yaml.safe_load(text)


def test_empty_file_is_an_empty_mapping_so_missing_fields_are_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "")
    assert read_yaml(path) == ({}, {})
    message = _error(path)
    assert message == f"{path}: name: Field required"


@pytest.mark.parametrize("text", ["- a\n- b\n", "just some words\n", "42\n"])
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, text)
    message = _error(path)
    assert message == f"{path}:1: expected a mapping of settings at the top level"


def test_missing_file_is_reported_as_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    message = _error(path)
    assert message.startswith(f"{path}: cannot read")
    assert "No such file" in message


def test_a_directory_is_reported_as_unreadable(tmp_path: Path) -> None:
    message = _error(tmp_path)
    assert message.startswith(f"{tmp_path}: cannot read")


def test_non_utf8_file_is_reported_with_the_byte_offset(tmp_path: Path) -> None:
    path = _write(tmp_path, b"name: caf\xe9\n")
    message = _error(path)
    assert message.startswith(f"{path}: not UTF-8 text")
    assert "at byte 9" in message


# ------------------------------------------------------ validation errors


_DEVICES = """\
name: lab
interval: 10s
devices:
  - id: sw1
    kind: switch
  - id: fw1
    address: 10.0.0.1
    kind: toaster
"""


def test_read_yaml_remembers_the_line_of_every_value(tmp_path: Path) -> None:
    data, lines = read_yaml(_write(tmp_path, _DEVICES))
    assert data["devices"][1] == {"id": "fw1", "address": "10.0.0.1", "kind": "toaster"}
    assert lines[("name",)] == 1
    assert lines[("devices", 0, "id")] == 4
    assert lines[("devices", 1)] == 6
    assert lines[("devices", 1, "kind")] == 8


def test_validation_error_names_file_line_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path, _DEVICES)
    message = _error(path)
    assert message.startswith(f"{path}:8: devices[1].kind: Input should be ")
    assert "'switch'" in message
    assert "\n" not in message  # exactly one problem


def test_every_problem_is_listed_at_its_own_line(tmp_path: Path) -> None:
    path = _write(tmp_path, _DEVICES.replace("interval: 10s", "interval: soon"))
    problems = _error(path).splitlines()
    assert len(problems) == 2
    assert problems[0].startswith(f"{path}:2: interval: 'soon' is not a duration")
    assert problems[1].startswith(f"{path}:8: devices[1].kind: ")
    assert not any("Value error" in p for p in problems)


def test_missing_field_is_reported_at_the_line_of_its_parent(tmp_path: Path) -> None:
    text = "name: lab\ndevices:\n  - id: sw1\n    kind: switch\n  - id: fw1\n"
    path = _write(tmp_path, text)
    assert _error(path) == f"{path}:5: devices[1].kind: Field required"


def test_unknown_top_level_key_is_rejected_naming_key_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: lab\nintervall: 10s\n")
    assert _error(path) == f"{path}:2: intervall: unknown setting (misspelt?)"


def test_unknown_nested_key_is_rejected_naming_path_and_line(tmp_path: Path) -> None:
    text = "name: lab\ndevices:\n  - id: sw1\n    kind: switch\n    adress: 10.0.0.2\n"
    path = _write(tmp_path, text)
    assert _error(path) == f"{path}:5: devices[0].adress: unknown setting (misspelt?)"


@pytest.mark.parametrize(
    ("loc", "text"),
    [
        (("devices", 2, "address"), "devices[2].address"),
        (("name",), "name"),
        ((0,), "[0]"),
        ((), "(top level)"),
    ],
)
def test_format_location(loc: tuple[str | int, ...], text: str) -> None:
    assert format_location(loc) == text
