"""agent/pollers/snmp/client.py against real peers.

net-snmp's snmpd describes this machine, so its answers are cross-checked
value by value against net-snmp's own snmpget/snmpbulkwalk; snmpsim's answers
against the recordings it serves; a hostile responder stands in for broken devices.
v1/v2c take the client's own BER path and v3 pysnmp's; the `path` fixture puts
v1/v2c through pysnmp as well where both paths must behave alike.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import pytest
from pyasn1.codec.ber import decoder, encoder
from pysnmp.entity.engine import SnmpEngine
from pysnmp.proto.api import v2c

from agent.config import SnmpAccess, SnmpPoller, SnmpUser
from agent.pollers.snmp import client as client_module
from agent.pollers.snmp.client import SnmpClient
from agent.pollers.snmp.types import (
    OID, SnmpAuthError, SnmpReplyError, SnmpTimeout, Table, Tag, Value, VarBind, parse_oid,
)
from tests.agent.snmp.conftest import SWITCH_PORTS
from tests.peers.snmp import (
    LOCALHOST, SNMPD_USERS, SYS_LOCATION, SYS_NAME, TESTDATA, Snmpd, Snmpsim, free_udp_port, read_snmprec,
)

pytestmark = pytest.mark.integration

T = TypeVar("T")

# Each `(version, v3 user)` is cross-checked against net-snmp's tools.
CROSS_CHECKED = [("1", ""), ("2c", ""), ("3", "authpriv-sha-aes"), ("3", "authpriv-sha256-aes256")]
CROSS_IDS = ["v1", "v2c", "v3-sha-aes", "v3-sha256-aes256"]


@pytest.fixture(params=["ber", "pysnmp"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Which way v1/v2c requests go in this test: the client's own BER codec (the default) or pysnmp."""
    if request.param == "pysnmp":
        monkeypatch.setattr(client_module, "_FAST_VERSIONS", frozenset())
    return str(request.param)


def run(scenario: Callable[[SnmpEngine], Awaitable[T]]) -> T:
    """Run `scenario` with a fresh engine in a fresh event loop (pysnmp binds its engine to the loop)."""
    async def main() -> T:
        engine = SnmpEngine()
        try:
            return await scenario(engine)
        finally:
            engine.close_dispatcher()

    return asyncio.run(main())


def client(engine: SnmpEngine, access: SnmpAccess, **settings: Any) -> SnmpClient:
    options: dict[str, Any] = {"timeout_s": 2.0, "retries": 1, "max_repetitions": 25, **settings}
    return SnmpClient(engine, LOCALHOST, access, **options)


def comparable(tag: int, value: Value | str) -> tuple[int, Value | str]:
    """net-snmp prints what is inside an Opaque, Vigil keeps its bytes: only the tag compares."""
    return (tag, None) if tag == Tag.OPAQUE else (tag, value)


def o(text: str) -> OID:
    return parse_oid(text)


# ---------------------------------------------------------------- GET

STABLE_SCALARS = [
    o("1.3.6.1.2.1.1.1.0"), o("1.3.6.1.2.1.1.2.0"), o("1.3.6.1.2.1.1.4.0"), o("1.3.6.1.2.1.1.5.0"),
    o("1.3.6.1.2.1.1.6.0"), o("1.3.6.1.2.1.1.7.0"),                     # sysDescr … sysServices
    o("1.3.6.1.2.1.2.1.0"),                                             # ifNumber
    o("1.3.6.1.2.1.25.2.2.0"),                                          # hrMemorySize
    o("1.3.6.1.4.1.2021.4.5.0"), o("1.3.6.1.4.1.2021.9.1.2.1"),         # memTotalReal, dskPath.1
    o("1.3.6.1.4.1.2021.10.1.2.1"),                                     # laNames.1
    o("1.3.6.1.2.1.1.99.0"),                                            # nothing there
]
MOVING_SCALARS = [o("1.3.6.1.2.1.1.3.0"), o("1.3.6.1.2.1.25.1.1.0"), o("1.3.6.1.4.1.2021.11.11.0")]  # uptimes, ssCpuIdle


@pytest.mark.parametrize(("version", "user"), CROSS_CHECKED, ids=CROSS_IDS)
def test_get_matches_snmpget(snmpd: Snmpd, version: str, user: str) -> None:
    access = snmpd.access(version, user)
    asked = STABLE_SCALARS + MOVING_SCALARS
    ours = run(lambda engine: client(engine, access).get(asked))
    theirs = {oid: (tag, value) for oid, tag, value in snmpd.snmpget(access, asked)}

    assert [oid for oid, _, _ in ours] == asked
    for oid, tag, value in ours:
        if oid not in theirs:          # under v1 snmpget drops what the agent has not
            assert (version, tag, value) == ("1", Tag.NO_SUCH_OBJECT, None), oid
        elif oid in MOVING_SCALARS:
            assert tag == theirs[oid][0], oid
        else:
            assert (tag, value) == theirs[oid], oid
    values = {oid: (tag, value) for oid, tag, value in ours}
    assert values[o("1.3.6.1.2.1.1.5.0")] == (Tag.OCTET_STRING, SYS_NAME.encode())
    assert values[o("1.3.6.1.2.1.1.6.0")] == (Tag.OCTET_STRING, SYS_LOCATION.encode())
    assert values[o("1.3.6.1.2.1.1.99.0")] == (Tag.NO_SUCH_OBJECT, None)


# ---------------------------------------------------------------- walk

IF_ENTRY, IFX_ENTRY = o("1.3.6.1.2.1.2.2.1"), o("1.3.6.1.2.1.31.1.1.1")
HR_STORAGE, HR_DEVICE, HR_PROCESSOR = o("1.3.6.1.2.1.25.2.3.1"), o("1.3.6.1.2.1.25.3.2.1"), o("1.3.6.1.2.1.25.3.3.1")
UCD_DISK, UCD_LOAD = o("1.3.6.1.4.1.2021.9.1"), o("1.3.6.1.4.1.2021.10.1")
# table entry → (columns whose values hold still between two walks, columns that move: same rows and types)
TABLES: dict[OID, tuple[set[int], set[int]]] = {
    IF_ENTRY: ({1, 2, 3, 4, 5, 6, 7}, {10, 16}),            # … ifAdminStatus; ifInOctets, ifOutOctets
    IFX_ENTRY: ({1, 15}, {6, 10}),                          # ifName, ifHighSpeed; ifHCIn/OutOctets (Counter64)
    HR_STORAGE: ({1, 2, 3, 4}, {5, 6}),
    HR_DEVICE: ({1, 2, 3}, set()),
    HR_PROCESSOR: (set(), {2}),                             # hrProcessorLoad
    UCD_DISK: ({1, 2, 3, 6}, {7}),                          # dskPath, dskDevice, dskTotal; dskAvail
    UCD_LOAD: ({1, 2, 4}, {3, 6}),                          # laNames, laConfig; laLoad, laLoadFloat (Opaque)
}
COLUMNS = [entry + (column,) for entry, (stable, moving) in TABLES.items() for column in sorted(stable | moving)]


def _tool_walk(snmpd: Snmpd, access: SnmpAccess, entry: OID) -> list[tuple[OID, int, Value | str]]:
    return snmpd.snmpwalk(access, entry) if access.version == "1" else snmpd.snmpbulkwalk(access, entry)


@pytest.mark.parametrize(("version", "user"), CROSS_CHECKED, ids=CROSS_IDS)
def test_walk_matches_snmpbulkwalk(snmpd: Snmpd, version: str, user: str) -> None:
    """IF-MIB, HOST-RESOURCES-MIB and UCD-SNMP-MIB columns, all walked side by side in the same requests."""
    access = snmpd.access(version, user)
    ours = run(lambda engine: client(engine, access, max_repetitions=10).walk(COLUMNS))

    assert list(ours) == COLUMNS
    for entry, (stable, moving) in TABLES.items():
        theirs: dict[OID, dict[OID, tuple[int, Value | str]]] = {}
        for oid, tag, value in _tool_walk(snmpd, access, entry):
            theirs.setdefault(oid[:len(entry) + 1], {})[oid[len(entry) + 1:]] = comparable(tag, value)
        for column in stable | moving:
            root = entry + (column,)
            mine = {row: comparable(tag, value) for row, (tag, value) in ours[root].items()}
            expected = theirs.get(root, {})
            if column in stable:
                assert mine == expected, root
            else:
                assert {row: tag for row, (tag, _) in mine.items()} == {row: tag for row, (tag, _) in expected.items()}, root
    assert ours[IF_ENTRY + (2,)], "the interfaces table is empty"
    assert ours[UCD_LOAD + (2,)] == {(1,): (Tag.OCTET_STRING, b"Load-1"), (2,): (Tag.OCTET_STRING, b"Load-5"),
                                     (3,): (Tag.OCTET_STRING, b"Load-15")}
    if version == "1":
        assert ours[IFX_ENTRY + (6,)] == {}, "SNMPv1 cannot carry Counter64: net-snmp skips them"
    else:
        assert {tag for tag, _ in ours[IFX_ENTRY + (6,)].values()} == {Tag.COUNTER64}


VACM_VIEW_TYPE = o("1.3.6.1.6.3.16.1.5.2.1.6")     # the last column of snmpd's MIB view
SYS_OR_DESCR = o("1.3.6.1.2.1.1.9.1.3")


@pytest.mark.parametrize("version", ["1", "2c"])
def test_walk_to_the_end_of_the_mib(snmpd: Snmpd, version: str, path: str) -> None:
    """A column that ends the agent's MIB (v1: noSuchName, v2c: endOfMibView) beside one that does not."""
    access = snmpd.access(version)
    ours = run(lambda engine: client(engine, access).walk([VACM_VIEW_TYPE, SYS_OR_DESCR]))

    for root in (VACM_VIEW_TYPE, SYS_OR_DESCR):
        expected = {oid[len(root):]: (tag, value) for oid, tag, value in snmpd.snmpwalk(access, root)}
        assert ours[root] == expected and expected, root


@pytest.mark.parametrize("name", sorted(SNMPD_USERS))
def test_every_v3_security_level_and_protocol(snmpd: Snmpd, name: str) -> None:
    """Each user's auth/priv pair against net-snmp, the Reeder AES-192/256 key extension included."""
    access = snmpd.access("3", name)

    async def scenario(engine: SnmpEngine) -> tuple[list[VarBind], Table]:
        device = client(engine, access)
        return await device.get([o("1.3.6.1.2.1.1.5.0")]), await device.walk([IF_ENTRY + (2,)])

    got, table = run(scenario)
    assert got == [(o("1.3.6.1.2.1.1.5.0"), Tag.OCTET_STRING, SYS_NAME.encode())]
    expected = {oid[len(IF_ENTRY) + 1:]: value for oid, _, value in snmpd.snmpbulkwalk(access, IF_ENTRY + (2,))}
    assert {row: value for row, (_, value) in table[IF_ENTRY + (2,)].items()} == expected


@pytest.mark.parametrize(("version", "user", "pysnmp_opened"), [("1", "", False), ("2c", "", False),
                                                                  ("3", "authpriv-sha-aes", True)], ids=["v1", "v2c", "v3"])
def test_only_v3_goes_through_pysnmp(snmpd: Snmpd, version: str, user: str, pysnmp_opened: bool) -> None:
    """v1/v2c never open pysnmp's transport: they go through the client's own codec and socket."""
    async def scenario(engine: SnmpEngine) -> bool:
        await client(engine, snmpd.access(version, user)).get([o("1.3.6.1.2.1.1.5.0")])
        return engine.transport_dispatcher is not None

    assert run(scenario) == pysnmp_opened


def test_many_devices_share_one_engine(snmpd: Snmpd, snmpsim: Snmpsim) -> None:
    """v1, v2c, every v3 user and a simulated switch polled at once through one SnmpEngine."""
    accesses = [snmpd.access("1"), snmpd.access("2c"), *(snmpd.access("3", name) for name in SNMPD_USERS)]

    async def scenario(engine: SnmpEngine) -> list[Any]:
        clients = [client(engine, access) for access in accesses]
        switch = client(engine, snmpsim.access("switch-000"))
        return await asyncio.gather(*(c.get([o("1.3.6.1.2.1.1.5.0")]) for c in clients), switch.walk([IF_ENTRY + (2,)]))

    *names, switch = run(scenario)
    assert names == [[(o("1.3.6.1.2.1.1.5.0"), Tag.OCTET_STRING, SYS_NAME.encode())]] * len(accesses)
    assert len(switch[IF_ENTRY + (2,)]) == SWITCH_PORTS


# ---------------------------------------------------------------- failures

def _failure(access: SnmpAccess, timeout_s: float = 0.3, retries: int = 1) -> tuple[Exception, float]:
    async def scenario(engine: SnmpEngine) -> Exception:
        try:
            await client(engine, access, timeout_s=timeout_s, retries=retries).get([o("1.3.6.1.2.1.1.5.0")])
        except Exception as error:
            return error
        raise AssertionError("the request succeeded")

    started = time.monotonic()
    error = run(scenario)
    return error, time.monotonic() - started


def test_wrong_community_is_a_timeout_within_the_bound(snmpd: Snmpd) -> None:
    error, elapsed = _failure(SnmpAccess(version="2c", community="not-public-xyz", port=snmpd.port))
    assert isinstance(error, SnmpTimeout) and error.kind == "timeout"
    assert f"127.0.0.1:{snmpd.port}: GET 1.3.6.1.2.1.1.5.0: no answer" in str(error)
    assert "not-public-xyz" not in str(error)
    assert 0.5 < elapsed < 0.3 * 2 + 1.0


def test_closed_port_is_a_timeout_within_the_bound() -> None:
    error, elapsed = _failure(SnmpAccess(version="2c", community="public", port=free_udp_port()), retries=0)
    assert isinstance(error, SnmpTimeout)
    assert elapsed < 0.3 + 1.0


def _user(name: str = "authpriv-sha-aes", **changes: str) -> SnmpUser:
    settings = {"name": name, "auth_protocol": "sha", "auth_key": "authpriv-sha-aes-auth",
                "priv_protocol": "aes", "priv_key": "authpriv-sha-aes-priv", **changes}
    return SnmpUser(**settings)  # type: ignore[arg-type]


@pytest.mark.parametrize("user", [
    _user(auth_key="wrong-auth-key-1"),
    _user(priv_key="wrong-priv-key-1"),
    _user(auth_protocol="md5"),
    _user(priv_protocol="des"),
    _user(name="nobody-here"),
    _user(priv_protocol="none", priv_key=""),      # a user only allowed with privacy, asking without
], ids=["auth-key", "priv-key", "auth-protocol", "priv-protocol", "unknown-user", "needs-privacy"])
def test_wrong_v3_credentials_are_auth_errors(snmpd: Snmpd, user: SnmpUser) -> None:
    error, _ = _failure(SnmpAccess(version="3", user=user, port=snmpd.port))
    assert isinstance(error, SnmpAuthError) and error.kind == "auth", error
    assert user.name in str(error)
    for secret in (user.auth_key, user.priv_key):
        if secret:
            assert secret not in str(error)


def test_one_engine_refuses_a_user_name_with_two_sets_of_keys(snmpd: Snmpd) -> None:
    async def scenario(engine: SnmpEngine) -> str:
        client(engine, snmpd.access("3", "authpriv-sha-aes"))
        with pytest.raises(ValueError) as refused:
            client(engine, SnmpAccess(version="3", user=_user(auth_key="other-key-123"), port=snmpd.port))
        return str(refused.value)

    message = run(scenario)
    assert "'authpriv-sha-aes'" in message and "SnmpEngine of its own" in message
    assert "other-key-123" not in message and "authpriv-sha-aes-auth" not in message


def test_a_walk_longer_than_the_bound_is_refused(snmpsim: Snmpsim) -> None:
    async def scenario(engine: SnmpEngine) -> Table:
        return await client(engine, snmpsim.access("switch-000"), max_rows=10).walk([IF_ENTRY + (2,)])

    with pytest.raises(SnmpReplyError, match=r"walk of 1\.3\.6\.1\.2\.1\.2\.2\.1\.2: more than 10 rows"):
        run(scenario)


def test_settings_come_from_the_device_else_the_poller() -> None:
    defaults = SnmpPoller(timeout=3.0, retries=2, max_repetitions=30)
    own = SnmpAccess(community="c", timeout=0.5, retries=0, max_repetitions=5)

    async def scenario(engine: SnmpEngine) -> list[tuple[float, int, int]]:
        made = [SnmpClient.for_device(engine, LOCALHOST, access, defaults) for access in (own, SnmpAccess(community="c"))]
        return [(c._timeout_s, c._retries, c._max_repetitions) for c in made]

    assert run(scenario) == [(0.5, 0, 5), (3.0, 2, 30)]


# ---------------------------------------------------------------- snmpsim recordings

RECORDED_SUBTREES = {
    "cisco-c3560": ["1.3.6.1.2.1.1", "1.3.6.1.2.1.2", "1.3.6.1.2.1.31.1.1", "1.3.6.1.2.1.47.1.1.1",
                    "1.3.6.1.4.1.9.9.109", "1.3.6.1.4.1.9.9.48", "1.3.6.1.4.1.9.9.13"],
    "linux-net-snmp": ["1.3.6.1.2.1.1", "1.3.6.1.2.1.2", "1.3.6.1.2.1.31.1.1", "1.3.6.1.2.1.25", "1.3.6.1.4.1.2021"],
    "eaton-93e-ups": ["1.3.6.1.2.1.1", "1.3.6.1.2.1.2", "1.3.6.1.2.1.33"],
    "huawei-s5720": ["1.3.6.1.2.1.1", "1.3.6.1.2.1.2", "1.3.6.1.2.1.31.1.1", "1.3.6.1.2.1.47.1.1.1",
                     "1.3.6.1.4.1.2011.5.25.31"],
    "h3c-comware7": ["1.3.6.1.2.1.1", "1.3.6.1.2.1.2", "1.3.6.1.2.1.31.1.1", "1.3.6.1.2.1.47.1.1.1",
                     "1.3.6.1.4.1.25506.2.6.1"],
}


def _by_subtree(objects: Sequence[tuple[OID, int, Value]], roots: Sequence[OID]) -> Table:
    table: Table = {root: {} for root in roots}
    for oid, tag, value in objects:
        for root in roots:
            if oid[:len(root)] == root:
                table[root][oid[len(root):]] = (tag, value)
    return table


@pytest.mark.parametrize("device", sorted(RECORDED_SUBTREES))
def test_walk_of_a_recorded_device_returns_the_recording(snmpsim: Snmpsim, device: str) -> None:
    """Every subtree kept in the recording, walked side by side, equals the file object for object."""
    roots = [parse_oid(text) for text in RECORDED_SUBTREES[device]]
    ours = run(lambda engine: client(engine, snmpsim.access(device)).walk(roots))

    expected = _by_subtree(read_snmprec(TESTDATA / f"{device}.snmprec"), roots)
    assert ours == expected
    assert sum(map(len, ours.values())) == len(read_snmprec(TESTDATA / f"{device}.snmprec"))


IF_MIB_COLUMNS = [IF_ENTRY + (c,) for c in (2, 3, 5, 7, 8, 14, 20, 13, 19)] + \
                 [IFX_ENTRY + (c,) for c in (1, 6, 10, 7, 11, 15, 18)]


SPEED_FLOORS = {"ber": 15_000, "pysnmp": 3_000}
"""Varbinds per CPU-second. pysnmp's path never reaches 10 k here; the BER path does about 100 k."""


def test_walk_speed_on_a_48_port_switch(snmpsim: Snmpsim, path: str, capsys: pytest.CaptureFixture[str]) -> None:
    """16 IF-MIB columns of the synthetic switch; the figure is the client's CPU, not snmpsim's wall time.

    The floors only catch a client gone badly wrong (pyasn1 back on the v2c
    path, MIB lookups, per-request target setup); the measured figures are
    printed for the record.
    """
    walks = 5

    async def scenario(engine: SnmpEngine) -> tuple[Table, int, float]:
        device = client(engine, snmpsim.access("switch-000"))
        table = await device.walk(IF_MIB_COLUMNS)
        started, varbinds = time.process_time(), 0
        for _ in range(walks):
            varbinds += sum(map(len, (await device.walk(IF_MIB_COLUMNS)).values()))
        return table, varbinds, time.process_time() - started

    table, varbinds, cpu_s = run(scenario)
    assert varbinds == walks * len(IF_MIB_COLUMNS) * SWITCH_PORTS
    expected = _by_subtree(read_snmprec(snmpsim.data_dirs[1] / "switch-000.snmprec"), IF_MIB_COLUMNS)
    assert table == expected
    with capsys.disabled():
        print(f"\nSnmpClient, {path} path: {varbinds / cpu_s:,.0f} varbinds per CPU-second "
              f"({varbinds} varbinds, {cpu_s:.2f} CPU-s)")
    assert varbinds / cpu_s > SPEED_FLOORS[path]


# ---------------------------------------------------------------- a hostile device

class Hostile(asyncio.DatagramProtocol):
    """A tiny SNMP responder on 127.0.0.1 answering every request with what `answer` makes of it.

    It stands in for a broken or hostile device, because no real peer
    (snmpd, snmpsim) misbehaves on demand.
    """

    def __init__(self, answer: Callable[[Any], bytes]) -> None:
        self.answer = answer

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, sender: tuple[str, int]) -> None:
        request, _ = decoder.decode(data, asn1Spec=v2c.Message())
        self.transport.sendto(self.answer(request), sender)  # type: ignore[attr-defined]


def _reply(request: Any, varbinds: Sequence[tuple[Any, Any]], status: int = 0, index: int = 0,
           request_id: int | None = None) -> bytes:
    response = v2c.apiPDU.get_response(v2c.apiMessage.get_pdu(request))
    if request_id is not None:
        v2c.apiPDU.set_request_id(response, request_id)
    v2c.apiPDU.set_error_status(response, status)
    v2c.apiPDU.set_error_index(response, index)
    v2c.apiPDU.set_varbinds(response, varbinds)
    message = v2c.apiMessage.get_response(request)
    v2c.apiMessage.set_pdu(message, response)
    return encoder.encode(message)


def _asked(request: Any) -> list[OID]:
    return [tuple(oid) for oid, _ in v2c.apiPDU.get_varbinds(v2c.apiMessage.get_pdu(request))]


def _echo(request: Any) -> bytes:
    return _reply(request, [(oid, v2c.OctetString(b"WRONGTYPE")) for oid in _asked(request)])


def _first_row_forever(request: Any) -> bytes:
    """Whatever is asked, the first row of ifDescr: the second request gets back what it sent."""
    return _reply(request, [(IF_ENTRY + (2, 1), v2c.OctetString(b"eth0"))])


def _wrong_type(request: Any) -> bytes:
    """A BOOLEAN (tag 0x01) where SNMP allows no such type."""
    return _echo(request).replace(b"\x04\x09WRONGTYPE", b"\x01\x09WRONGTYPE")


def _other_oids(request: Any) -> bytes:
    return _reply(request, [(oid[:-1] + (99,), v2c.OctetString(b"x")) for oid in _asked(request)])


def _too_many(request: Any) -> bytes:
    return _reply(request, [(IF_ENTRY + (2, row), v2c.OctetString(b"x")) for row in range(1, 30)])


SYS_NAME_OID, SYS_LOCATION_OID, SYS_CONTACT_OID = o("1.3.6.1.2.1.1.5.0"), o("1.3.6.1.2.1.1.6.0"), o("1.3.6.1.2.1.1.4.0")

HOSTILE = {
    "looping-walk": ("walk", _first_row_forever,
                     r"walk of 1\.3\.6\.1\.2\.1\.2\.2\.1\.2: 1\.3\.6\.1\.2\.1\.2\.2\.1\.2\.1 does not follow "
                     r"1\.3\.6\.1\.2\.1\.2\.2\.1\.2\.1 \(the device's walk loops\)"),
    "truncated-pdu": ("get", lambda request: _echo(request)[:-7],
                      r"GET 1\.3\.6\.1\.2\.1\.1\.5\.0, .*: the device answered with a reply that cannot be decoded"),
    "garbage": ("get", lambda request: b"\xff\x00 this is not BER",
                r"GET 1\.3\.6\.1\.2\.1\.1\.5\.0, .*: the device answered with a reply that cannot be decoded"),
    "wrong-type": ("walk", _wrong_type,
                   r"GETBULK 1\.3\.6\.1\.2\.1\.2\.2\.1\.2: the device answered with a reply that cannot be decoded"),
    "error-status": ("get", lambda request: _reply(request, [(oid, v2c.null) for oid in _asked(request)], 5, 2),
                     r"GET 1\.3\.6\.1\.2\.1\.1\.6\.0: the device answered genErr"),
    "other-oids": ("get", _other_oids, r"GET 1\.3\.6\.1\.2\.1\.1\.5\.0: the reply names 1\.3\.6\.1\.2\.1\.1\.5\.99"),
    "too-many-rows": ("walk", _too_many, r"GETBULK 1\.3\.6\.1\.2\.1\.2\.2\.1\.2: 29 values for 1 column\(s\) × 25"),
}


async def _responder(protocol: Callable[[], asyncio.DatagramProtocol]) -> tuple[asyncio.BaseTransport, int]:
    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(protocol, local_addr=(LOCALHOST, 0))
    return transport, transport.get_extra_info("sockname")[1]


async def _ask(device: SnmpClient, action: str) -> Any:
    if action == "get":
        return await device.get([SYS_NAME_OID, SYS_LOCATION_OID, SYS_CONTACT_OID])
    return await device.walk([IF_ENTRY + (2,)])


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_reply_is_a_reply_error(case: str, path: str) -> None:
    action, answer, message = HOSTILE[case]

    async def scenario(engine: SnmpEngine) -> Exception:
        transport, port = await _responder(lambda: Hostile(answer))
        device = client(engine, SnmpAccess(community="public", port=port), timeout_s=0.3, retries=0)
        try:
            await _ask(device, action)
        except Exception as error:
            return error
        finally:
            transport.close()
        raise AssertionError("the hostile reply was accepted")

    error = run(scenario)
    assert isinstance(error, SnmpReplyError) and error.kind == "bad_reply", error
    assert re.search(rf"^127\.0\.0\.1:\d+: {message}", str(error)), str(error)


def test_an_undecodable_reply_fails_at_once() -> None:
    """The BER path need not wait out the timeout as pysnmp does: the device has shown it is broken."""
    async def scenario(engine: SnmpEngine) -> tuple[Exception, float, int]:
        transport, port = await _responder(lambda: Hostile(lambda request: _echo(request)[:-7]))
        device = client(engine, SnmpAccess(community="public", port=port), timeout_s=5.0, retries=2)
        started = time.monotonic()
        try:
            await device.get([SYS_NAME_OID])
        except SnmpReplyError as error:
            return error, time.monotonic() - started, engine.get_user_context("vigil").opening.result().undecodable
        finally:
            transport.close()
        raise AssertionError("the truncated reply was accepted")

    error, elapsed, undecodable = run(scenario)
    assert elapsed < 1.0 and undecodable == 1
    assert re.search(r": the device answered with a reply that cannot be decoded \(byte \d+: .+\)$", str(error)), str(error)


class Impostors(Hostile):
    """Answers a request four times: under another request-id, from another socket, rightly, and rightly again."""

    def __init__(self, other: asyncio.DatagramTransport) -> None:
        super().__init__(lambda request: _reply(request, [(oid, v2c.OctetString(b"right")) for oid in _asked(request)]))
        self.other = other

    def datagram_received(self, data: bytes, sender: tuple[str, int]) -> None:
        request, _ = decoder.decode(data, asn1Spec=v2c.Message())
        request_id = int(v2c.apiPDU.get_request_id(v2c.apiMessage.get_pdu(request)))
        right = self.answer(request)
        self.transport.sendto(_reply(request, [(SYS_NAME_OID, v2c.OctetString(b"wrong id"))],  # type: ignore[attr-defined]
                                     request_id=request_id % (2**31 - 1) + 1), sender)
        self.other.sendto(_reply(request, [(SYS_NAME_OID, v2c.OctetString(b"wrong sender"))]), sender)
        self.transport.sendto(right, sender)  # type: ignore[attr-defined]
        self.transport.sendto(right, sender)  # type: ignore[attr-defined]


def test_replies_are_matched_by_request_id_and_sender() -> None:
    """Of four answers only the one with the request's id from the device's address counts; the rest are stray."""
    async def scenario(engine: SnmpEngine) -> tuple[list[VarBind], int]:
        other, _ = await _responder(asyncio.DatagramProtocol)
        transport, port = await _responder(lambda: Impostors(other))  # type: ignore[arg-type]
        try:
            got = await client(engine, SnmpAccess(community="public", port=port)).get([SYS_NAME_OID])
            await asyncio.sleep(0.1)        # the duplicate arrives after the request is done
        finally:
            transport.close()
            other.close()
        state = engine.get_user_context("vigil")
        return got, state.opening.result().stray

    got, stray = run(scenario)
    assert got == [(SYS_NAME_OID, Tag.OCTET_STRING, b"right")]
    assert stray == 3


def _too_big_unless_small(request: Any) -> bytes:
    """tooBig for a GET of several OIDs or a GETBULK of more than 3 repetitions; else ifDescr rows 1–5."""
    pdu, asked = v2c.apiMessage.get_pdu(request), _asked(request)
    if pdu.tagSet == v2c.GetRequestPDU.tagSet:
        if len(asked) > 1:
            return _reply(request, [(oid, v2c.null) for oid in asked], 1, 0)
        return _reply(request, [(asked[0], v2c.OctetString(b"one"))])
    repetitions = int(v2c.apiBulkPDU.get_max_repetitions(pdu))
    if repetitions > 3:
        return _reply(request, [(oid, v2c.null) for oid in asked], 1, 0)
    (cursor,) = asked
    first = cursor[-1] + 1 if len(cursor) > len(IF_ENTRY) + 1 else 1
    rows = [(IF_ENTRY + (2, row), v2c.OctetString(b"eth%d" % row)) for row in range(first, min(first + repetitions, 6))]
    return _reply(request, rows or [(IF_ENTRY + (3, 1), v2c.Integer(6))])


def test_too_big_halves_the_get_and_the_repetitions(path: str) -> None:
    async def scenario(engine: SnmpEngine) -> tuple[list[VarBind], Table]:
        transport, port = await _responder(lambda: Hostile(_too_big_unless_small))
        device = client(engine, SnmpAccess(community="public", port=port), max_repetitions=25)
        try:
            return await _ask(device, "get"), await _ask(device, "walk")
        finally:
            transport.close()

    got, table = run(scenario)
    assert got == [(oid, Tag.OCTET_STRING, b"one") for oid in (SYS_NAME_OID, SYS_LOCATION_OID, SYS_CONTACT_OID)]
    assert table == {IF_ENTRY + (2,): {(row,): (Tag.OCTET_STRING, b"eth%d" % row) for row in range(1, 6)}}
