"""`vigil demo` ends with the demo site's inspection report on disk and mailed to its local SMTP sink."""

from __future__ import annotations

import email
import email.policy
import subprocess
import sys
from pathlib import Path

import pytest

from tests.peers.vigil import REPO

pytestmark = pytest.mark.integration


def test_the_demo_ends_with_a_report_written_and_mailed(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "collector.cli.main", "demo", "--duration", "6", "--interval", "1", "--dir", str(demo)],
        capture_output=True, text=True, cwd=REPO, timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Inspection report VGL-" in result.stdout and "mailed to it@demo-customer.example: sent" in result.stdout
    (pdf,) = (demo / "reports").glob("*-zh.pdf")
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert len(list((demo / "reports").glob("*-zh.html"))) == 1
    (saved,) = (demo / "mail").glob("*.eml")
    message = email.message_from_bytes(saved.read_bytes(), policy=email.policy.default)
    assert str(message["Subject"]).startswith("【巡检报告】演示客户 Demo Customer")
    ((name, data),) = [(part.get_filename(), part.get_payload(decode=True)) for part in message.iter_attachments()]
    assert name.endswith(".pdf") and data == pdf.read_bytes()
