"""agent/pollers/snmp/traps.py: traps and informs sent by Debian's snmptrap/snmpinform become events."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from agent.config import Device, SnmpAccess, SnmpTraps, SnmpUser
from agent.pollers.snmp.profiles import load_profiles
from agent.pollers.snmp.traps import TrapReceiver
from protos.vigil.v1 import agent_pb2 as pb
from tests.peers.snmp import free_udp_port, send_trap

IF_INDEX = (1, 3, 6, 1, 2, 1, 2, 2, 1, 1, 3)
IF_DESCR = (1, 3, 6, 1, 2, 1, 2, 2, 1, 2, 3)
ENGINE_ID = "0x80001f8880766967696c2d74657374"
TRAP_USER = SnmpUser(name="trapper", auth_protocol="sha256", auth_key="trap-auth-key",
                     priv_protocol="aes", priv_key="trap-priv-key", engine_id=ENGINE_ID)


def _receive(tmp_path: Path, sends: list[dict], expect: int) -> list[pb.Event]:  # type: ignore[type-arg]
    """Start a receiver on a free port, run the `send_trap` calls, return the events that arrived."""
    port = free_udp_port()
    settings = SnmpTraps(enabled=True, listen=f"127.0.0.1:{port}", communities=("traps-in",), users=(TRAP_USER,))
    devices = [Device(id="sw1", kind="switch", address="127.0.0.1")]
    events: list[pb.Event] = []

    async def scenario() -> None:
        receiver = TrapReceiver(settings, devices, load_profiles(), events.append)
        receiver.start()
        try:
            for send in sends:
                result = await asyncio.to_thread(send_trap, port, state_dir=tmp_path, **send)
                assert result.returncode == 0, result.stderr
            for _ in range(100):
                if len(events) >= expect:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)  # and nothing more arrives
        finally:
            receiver.stop()

    asyncio.run(scenario())
    return events


def test_a_v2c_link_down_becomes_a_named_event_of_the_device(tmp_path: Path) -> None:
    access = SnmpAccess(version="2c", community="traps-in")
    (event,) = _receive(tmp_path, [dict(access=access, varbinds=[(IF_INDEX, "i", "3"), (IF_DESCR, "s", "GigabitEthernet0/3")])], 1)
    assert (event.device, event.source, event.name, event.severity) == ("sw1", "snmp_trap", "link_down", "major")
    assert "GigabitEthernet0/3" in event.message
    assert event.attributes["trap_oid"] == "1.3.6.1.6.3.1.1.5.3"
    assert event.attributes["sender"].startswith("127.0.0.1:")
    assert event.attributes["1.3.6.1.2.1.2.2.1.1.3"] == "3"
    assert "message_zh" in event.attributes
    assert "traps-in" not in str(event)  # the community never travels


def test_v3_trap_and_informs_are_accepted_and_wrong_credentials_are_not(tmp_path: Path) -> None:
    v3 = SnmpAccess(version="3", user=TRAP_USER)
    wrong_key = SnmpAccess(version="3", user=SnmpUser(name="trapper", auth_protocol="sha256", auth_key="not-the-key",
                                                        priv_protocol="aes", priv_key="trap-priv-key"))
    sends = [
        dict(access=v3, trap_oid=(1, 3, 6, 1, 2, 1, 33, 2, 1), engine_id=ENGINE_ID),     # UPS-MIB upsTrapOnBattery
        dict(access=SnmpAccess(version="2c", community="traps-in"), trap_oid=(1, 3, 6, 1, 6, 3, 1, 1, 5, 1), inform=True),
        dict(access=SnmpAccess(version="2c", community="wrong"), trap_oid=(1, 3, 6, 1, 6, 3, 1, 1, 5, 2)),
        dict(access=wrong_key, trap_oid=(1, 3, 6, 1, 6, 3, 1, 1, 5, 2), engine_id=ENGINE_ID),
    ]
    events = _receive(tmp_path, sends, 2)
    assert [(e.name, e.severity) for e in events] == [("ups_on_battery", "critical"), ("cold_start", "warning")]


def test_an_unknown_trap_is_forwarded_with_its_varbinds(tmp_path: Path) -> None:
    access = SnmpAccess(version="2c", community="traps-in")
    odd = (1, 3, 6, 1, 4, 1, 99999, 0, 7)
    (event,) = _receive(tmp_path, [dict(access=access, trap_oid=odd, varbinds=[((1, 3, 6, 1, 4, 1, 99999, 1), "s", "机房 A 温度高")])], 1)
    assert (event.name, event.severity) == ("snmp_trap", "info")
    assert event.message == "sw1 sent SNMP trap 1.3.6.1.4.1.99999.0.7"
    assert event.attributes["1.3.6.1.4.1.99999.1"] == "机房 A 温度高"


def test_a_port_in_use_is_an_error_at_start() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        settings = SnmpTraps(enabled=True, listen=f"127.0.0.1:{taken.getsockname()[1]}", communities=("x",))
        receiver = TrapReceiver(settings, [], load_profiles(), lambda event: None)

        async def start() -> None:
            receiver.start()

        with pytest.raises(Exception, match="(?i)address already in use|bind"):
            asyncio.run(start())
