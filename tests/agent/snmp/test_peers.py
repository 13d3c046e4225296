"""tests/peers/snmp.py: the peers answer, the tools' output parses, the recordings say what their README says."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto.api import v2c
from pysnmp.proto.mpmod.rfc3412 import SNMPv3Message
from pysnmp.proto.secmod.rfc3414.service import UsmSecurityParameters

from agent.config import SnmpAccess
from agent.pollers.snmp.types import OID, Tag, parse_oid
from tests.peers.snmp import (
    LOCALHOST, SNMPD_USERS, SYS_NAME, TESTDATA, Snmpd, Snmpsim, parse_tool_output, read_snmprec, send_trap,
    write_switch_recordings,
)

SYS_UPTIME, SYS_NAME_OID = parse_oid("1.3.6.1.2.1.1.3.0"), parse_oid("1.3.6.1.2.1.1.5.0")
SNMP_TRAP_OID = parse_oid("1.3.6.1.6.3.1.1.4.1.0")
LINK_DOWN, IF_INDEX_1 = parse_oid("1.3.6.1.6.3.1.1.5.3"), parse_oid("1.3.6.1.2.1.2.2.1.1.1")


def test_tool_output_parses_every_kind_of_value() -> None:
    printed = "\n".join([
        ".1.3.6.1.2.1.1.2.0 = OID: .1.3.6.1.4.1.8072.3.2.10",
        ".1.3.6.1.2.1.1.3.0 = Timeticks: (11890) 0:01:58.90",
        ".1.3.6.1.2.1.25.1.4.0 = Hex-STRING: 6D 69 74 69 67 61 74 69 6F 6E 73 3D 61 75 74 6F ",
        "2C 6E 6F ",
        ".1.3.6.1.2.1.2.2.1.10.1 = Counter32: 1895074318",
        ".1.3.6.1.2.1.31.1.1.1.6.1 = Counter64: 104974289422",
        ".1.3.6.1.2.1.2.2.1.5.1 = Gauge32: 10000000",
        ".1.3.6.1.2.1.4.20.1.1.127.0.0.1 = IpAddress: 127.0.0.1",
        ".1.3.6.1.4.1.2021.10.1.101.1 = \"\"",
        ".1.3.6.1.4.1.2021.10.1.6.1 = Opaque: Float: 0.676270",
        ".1.3.6.1.4.1.2021.4.1.0 = INTEGER: -1",
        ".1.3.6.1.2.1.1.99.0 = No Such Object available on this agent at this OID",
        "End of MIB",
    ])
    assert parse_tool_output(printed) == [
        (parse_oid("1.3.6.1.2.1.1.2.0"), Tag.OBJECT_IDENTIFIER, (1, 3, 6, 1, 4, 1, 8072, 3, 2, 10)),
        (SYS_UPTIME, Tag.TIMETICKS, 11890),
        (parse_oid("1.3.6.1.2.1.25.1.4.0"), Tag.OCTET_STRING, b"mitigations=auto,no"),
        (parse_oid("1.3.6.1.2.1.2.2.1.10.1"), Tag.COUNTER32, 1895074318),
        (parse_oid("1.3.6.1.2.1.31.1.1.1.6.1"), Tag.COUNTER64, 104974289422),
        (parse_oid("1.3.6.1.2.1.2.2.1.5.1"), Tag.GAUGE32, 10000000),
        (parse_oid("1.3.6.1.2.1.4.20.1.1.127.0.0.1"), Tag.IP_ADDRESS, b"\x7f\x00\x00\x01"),
        (parse_oid("1.3.6.1.4.1.2021.10.1.101.1"), Tag.OCTET_STRING, b""),
        (parse_oid("1.3.6.1.4.1.2021.10.1.6.1"), Tag.OPAQUE, "Float: 0.676270"),
        (parse_oid("1.3.6.1.4.1.2021.4.1.0"), Tag.INTEGER, -1),
        (parse_oid("1.3.6.1.2.1.1.99.0"), Tag.NO_SUCH_OBJECT, None),
    ]


@pytest.mark.integration
@pytest.mark.parametrize("name", sorted(SNMPD_USERS))
def test_snmpd_answers_net_snmp_tools_as_every_user(snmpd: Snmpd, name: str) -> None:
    assert snmpd.snmpget(snmpd.access("3", name), [SYS_NAME_OID]) == [(SYS_NAME_OID, Tag.OCTET_STRING, SYS_NAME.encode())]


def test_synthetic_switches_are_ordered_and_typed(tmp_path: Path) -> None:
    assert write_switch_recordings(tmp_path, 2, 3) == ["switch-000", "switch-001"]
    objects = read_snmprec(tmp_path / "switch-001.snmprec")
    oids = [oid for oid, _, _ in objects]
    assert oids == sorted(oids) and len(set(oids)) == len(oids)
    assert len(objects) == 7 + 1 + 22 * 3 + 19 * 3       # system, ifNumber, ifTable, ifXTable
    values = {oid: (tag, value) for oid, tag, value in objects}
    assert values[SYS_NAME_OID] == (Tag.OCTET_STRING, b"switch-001")
    assert values[parse_oid("1.3.6.1.2.1.2.2.1.2.3")] == (Tag.OCTET_STRING, b"GigabitEthernet1/0/3")
    assert {values[parse_oid(f"1.3.6.1.2.1.31.1.1.1.{column}.2")][0] for column in range(6, 14)} == {Tag.COUNTER64}
    assert {values[parse_oid(f"1.3.6.1.2.1.2.2.1.{column}.2")][0] for column in range(10, 21)} == {Tag.COUNTER32}


def _served(snmpsim: Snmpsim, community: str, oids: list[OID]) -> dict[OID, int]:
    return {oid: value for oid, _, value in snmpsim.snmpget(snmpsim.access(community), oids)}  # type: ignore[misc]


IN_OCTETS, OUT_OCTETS = parse_oid("1.3.6.1.2.1.2.2.1.10"), parse_oid("1.3.6.1.2.1.2.2.1.16")
HC_IN_OCTETS, HC_OUT_OCTETS = parse_oid("1.3.6.1.2.1.31.1.1.1.6"), parse_oid("1.3.6.1.2.1.31.1.1.1.10")


@pytest.mark.integration
def test_counter_wrap_recordings_wrap_by_exactly_1000(snmpsim: Snmpsim) -> None:
    counters = {column + (port,): bits for column, bits in
                ((IN_OCTETS, 32), (OUT_OCTETS, 32), (HC_IN_OCTETS, 64), (HC_OUT_OCTETS, 64)) for port in (1, 2)}
    before = _served(snmpsim, "counter-wrap-before", [SYS_UPTIME, *counters])
    after = _served(snmpsim, "counter-wrap-after", [SYS_UPTIME, *counters])

    assert after[SYS_UPTIME] - before[SYS_UPTIME] == 30000                    # 300 s in TimeTicks
    for oid, bits in counters.items():
        assert (after[oid] - before[oid]) % (1 << bits) == 1000, oid
        assert (after[oid] < before[oid]) == (oid[-1] == 1), oid              # only interface 1 wraps


@pytest.mark.integration
def test_reboot_recordings_go_back_in_uptime_and_counters(snmpsim: Snmpsim) -> None:
    oids = [SYS_UPTIME, IN_OCTETS + (1,), HC_IN_OCTETS + (1,)]
    before, after = _served(snmpsim, "reboot-before", oids), _served(snmpsim, "reboot-after", oids)
    assert (before[SYS_UPTIME], after[SYS_UPTIME]) == (8640000, 6000)
    assert (before[IN_OCTETS + (1,)], after[IN_OCTETS + (1,)]) == (123456789, 5000)
    assert (before[HC_IN_OCTETS + (1,)], after[HC_IN_OCTETS + (1,)]) == (9876543210, 7000)


def test_every_recording_is_in_oid_order() -> None:
    """snmpsim answers GETNEXT from the file's order: an unsorted line would hide objects from a walk."""
    recordings = sorted(TESTDATA.glob("*.snmprec"))
    assert {"cisco-c3560.snmprec", "linux-net-snmp.snmprec", "eaton-93e-ups.snmprec", "huawei-s5720.snmprec",
            "h3c-comware7.snmprec", "counter-wrap-before.snmprec", "reboot-before.snmprec"} <= {p.name for p in recordings}
    for path in recordings:
        oids = [oid for oid, _, _ in read_snmprec(path)]
        assert oids == sorted(oids) and len(set(oids)) == len(oids), path.name


# ---------------------------------------------------------------- traps

def _receive(port_socket: socket.socket) -> bytes:
    data, _ = port_socket.recvfrom(65535)
    return data


@pytest.fixture
def receiver() -> Iterator[socket.socket]:
    """A bare UDP socket on 127.0.0.1 in place of the trap receiver, which is not written yet."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as bound:
        bound.bind((LOCALHOST, 0))
        bound.settimeout(10)
        yield bound


def test_v2c_trap_reaches_a_receiver(receiver: socket.socket, tmp_path: Path) -> None:
    port = receiver.getsockname()[1]
    sent = send_trap(port, SnmpAccess(community="traps-in"), tmp_path, varbinds=[(IF_INDEX_1, "i", "1")])
    assert sent.returncode == 0, sent.stderr

    message, _ = decoder.decode(_receive(receiver), asn1Spec=v2c.Message())
    pdu = v2c.apiMessage.get_pdu(message)
    assert bytes(v2c.apiMessage.get_community(message)) == b"traps-in"
    assert pdu.tagSet == v2c.SNMPv2TrapPDU.tagSet
    varbinds = [(tuple(oid), value) for oid, value in v2c.apiPDU.get_varbinds(pdu)]
    assert [oid for oid, _ in varbinds] == [SYS_UPTIME, SNMP_TRAP_OID, IF_INDEX_1]
    assert tuple(varbinds[1][1]) == LINK_DOWN and int(varbinds[2][1]) == 1


def test_v3_trap_is_sent_encrypted_as_its_user(receiver: socket.socket, tmp_path: Path) -> None:
    port = receiver.getsockname()[1]
    user = SNMPD_USERS["authpriv-sha256-aes256"]
    sent = send_trap(port, SnmpAccess(version="3", user=user), tmp_path, engine_id="0x8000000001020304")
    assert sent.returncode == 0, sent.stderr

    message, _ = decoder.decode(_receive(receiver), asn1Spec=SNMPv3Message())
    security, _ = decoder.decode(bytes(message["msgSecurityParameters"]), asn1Spec=UsmSecurityParameters())
    assert int(message["msgVersion"]) == 3
    assert bytes(message["msgGlobalData"]["msgFlags"]) == b"\x03"          # authenticated and encrypted
    assert bytes(security["msgUserName"]) == user.name.encode()
    assert bytes(security["msgAuthoritativeEngineId"]) == bytes.fromhex("8000000001020304")
    assert message["msgData"].getName() == "encryptedPDU"


def test_v2c_inform_is_acknowledged(receiver: socket.socket, tmp_path: Path) -> None:
    port = receiver.getsockname()[1]
    with ThreadPoolExecutor(1) as pool:
        sending = pool.submit(send_trap, port, SnmpAccess(community="traps-in"), tmp_path, inform=True,
                              timeout_s=5.0, varbinds=[(IF_INDEX_1, "i", "1")])
        data, sender = receiver.recvfrom(65535)
        message, _ = decoder.decode(data, asn1Spec=v2c.Message())
        inform = v2c.apiMessage.get_pdu(message)
        assert inform.tagSet == v2c.InformRequestPDU.tagSet
        response = v2c.apiPDU.get_response(inform)
        v2c.apiPDU.set_varbinds(response, v2c.apiPDU.get_varbinds(inform))
        answer = v2c.apiMessage.get_response(message)
        v2c.apiMessage.set_pdu(answer, response)
        receiver.sendto(encoder.encode(answer), sender)
        sent = sending.result(timeout=30)
    assert sent.returncode == 0, sent.stderr


def test_unanswered_inform_fails_within_its_bound(receiver: socket.socket, tmp_path: Path) -> None:
    sent = send_trap(receiver.getsockname()[1], SnmpAccess(community="traps-in"), tmp_path, inform=True, timeout_s=0.3)
    assert sent.returncode != 0 and "Timeout" in sent.stderr
    assert v2c.apiMessage.get_pdu(decoder.decode(_receive(receiver), asn1Spec=v2c.Message())[0]).tagSet == \
        v2c.InformRequestPDU.tagSet
