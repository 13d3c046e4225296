"""Fixtures for the playbook tests: the shipped library, and a folder to write test playbooks into."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from playbooks.library import Library, load


@pytest.fixture(scope="session")
def library() -> Library:
    return load()


MINIMAL = """\
id: {id}
title: {{zh: 测试, en: Test}}
description: {{zh: 测试用剧本, en: A playbook for tests}}
platforms: [linux]
mode: diagnostic
steps:
  - name: one
    command:
      linux: uptime
    timeout: 5
"""


@pytest.fixture
def write_playbook(tmp_path: Path) -> Callable[..., Path]:
    """`write_playbook(text, name=...)`: a playbook file in a fresh folder (with a templates/ folder)."""
    (tmp_path / "templates").mkdir(exist_ok=True)

    def write(text: str, name: str = "test.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write
