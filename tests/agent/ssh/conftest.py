"""The real SSH peers, one of each per test session: Debian's OpenSSH sshd and fakenos devices, on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.peers.fakenos import FakeNos
from tests.peers.sshd import Sshd


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    with Sshd(tmp_path_factory.mktemp("sshd")) as peer:
        yield peer


@pytest.fixture(scope="session")
def fakenos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeNos]:
    """cisco_ios-1, huawei_vrp-1, hp_comware-1 (one per platform), plus a second cisco for parallel runs."""
    hosts = {"cisco_ios-1": "cisco_ios", "cisco_ios-2": "cisco_ios", "huawei_vrp-1": "huawei_vrp",
             "hp_comware-1": "hp_comware"}
    with FakeNos(tmp_path_factory.mktemp("fakenos"), hosts) as peer:
        yield peer
