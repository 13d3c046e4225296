"""The real SNMP peers, one of each per test session: net-snmp's snmpd and snmpsim, on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.peers.snmp import TESTDATA, Snmpd, Snmpsim, ensure_switch_recordings, shared_snmpsim_folder

SWITCH_PORTS = 48
"""snmpsim also serves `switch-000`, a synthetic switch with this many interfaces."""


@pytest.fixture(scope="session")
def snmpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snmpd]:
    with Snmpd(tmp_path_factory.mktemp("snmpd")) as peer:
        yield peer


@pytest.fixture(scope="session")
def snmpsim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snmpsim]:
    """snmpsim serving agent/pollers/snmp/testdata and `switch-000`; indexes are reused across sessions."""
    with shared_snmpsim_folder() as shared:
        switches = ensure_switch_recordings(shared, 1, SWITCH_PORTS)
        simulator = Snmpsim(tmp_path_factory.mktemp("snmpsim"), [TESTDATA, switches], shared / "cache")
        simulator.start()     # under the lock: the first start writes the indexes
    try:
        yield simulator
    finally:
        simulator.stop()
