"""Real peers for the SSH poller's tests, one of each per test session: Debian's OpenSSH sshd and fakenos devices.

fakenos' own command sets lack what a poll reads on two platforms; the
outputs added here are the playbooks' recorded fixtures (real devices'
output), so a poll and a diagnosis read the same text.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.peers.fakenos import FakeNos
from tests.peers.sshd import Sshd

PLAYBOOK_FIXTURES = Path(__file__).resolve().parents[3] / "playbooks" / "templates"


def _recorded(relative: str) -> dict[str, str]:
    return {"output": (PLAYBOOK_FIXTURES / relative).read_text(encoding="utf-8")}


POLL_COMMANDS = {
    "cisco_ios": {"show memory statistics": _recorded("cisco_ios/show_memory_statistics/healthy_isr2911.raw")},
    "huawei_vrp": {"display temperature all": _recorded("huawei_vrp/display_temperature_all/healthy_s5720.raw")},
    "hp_comware": {"display environment": _recorded("hp_comware/display_environment/healthy_s6520x.raw")},
}


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    with Sshd(tmp_path_factory.mktemp("sshd")) as peer:
        yield peer


@pytest.fixture(scope="session")
def fakenos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeNos]:
    hosts = {"cisco_ios-1": "cisco_ios", "huawei_vrp-1": "huawei_vrp", "hp_comware-1": "hp_comware"}
    with FakeNos(tmp_path_factory.mktemp("fakenos"), hosts, extra_commands=POLL_COMMANDS) as peer:
        yield peer
