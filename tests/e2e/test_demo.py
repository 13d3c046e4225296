"""`vigil demo --duration N`, the README's first command, runs and exits 0 by itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.peers.vigil import REPO

pytestmark = pytest.mark.integration


def test_demo_runs_for_its_duration_and_summarises(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "collector.cli.main", "demo", "--duration", "6", "--interval", "1", "--dir", str(tmp_path / "demo")],
        capture_output=True, text=True, cwd=REPO, timeout=90,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "with mutual TLS" in out
    assert "agent connected" in out
    assert "stored and acknowledged" in out and "Summary: 0 points" not in out
    assert "demo-agent" in out and "mem_used_percent" in out
    assert (tmp_path / "demo" / "vigil.db").exists()
    assert "Traceback" not in (tmp_path / "demo" / "logs" / "collector.log").read_text()
