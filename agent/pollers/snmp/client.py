"""The agent's SNMP client: GETs and column walks, answers as plain tuples.

Two ways to the wire, one GET and one walk. SNMP v1/v2c go through `ber.py`
and a plain asyncio UDP socket: pysnmp decodes a reply through pyasn1 at
about 55 µs a varbind (81 % of the client's CPU on an IF-MIB walk), and a
community-based message carries nothing that needs it. SNMPv3 (USM
authentication and privacy) goes through pysnmp 7's command generators.
`SnmpClient` holds the GET and walk logic (columns side by side, v1's
noSuchName, tooBig, loops, `max_rows`) once; a path only answers "send these
OIDs as this PDU: (error status, error index, varbinds)".

Both paths hang off the `SnmpEngine` the client is given, so one engine means
one UDP socket for all its v1/v2c devices as well as one for v3. The v1/v2c
socket opens in the running event loop on first use and closes with
`engine.close_dispatcher()`. It matches a reply by request-id and sender,
counts and drops what matches nothing, and fails the requests pending to a
device at once when that device sends a datagram that does not decode. It
speaks IPv4, as pysnmp's `UdpTransportTarget` did before it.

On the v3 path, the target (credentials, address, timeout) is configured
once per client with the hlapi's own configurator, then every request goes
straight to pysnmp's command generators with numeric OIDs (`get_cmd`/
`bulk_cmd` would resolve each OID through the MIB viewer on every call).
pysnmp keys a v3 user by its name alone, so two devices whose users share a
name but not their keys need engines of their own: the client refuses to mix
them rather than let one device's keys silently replace the other's. pysnmp
drops a reply it cannot decode and lets the request time out; a hook on the
engine's receive path notes which address sent it, so that timeout is
reported as the bad reply it was.

Errors name the device and the OIDs, never the community or a key.
"""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyasn1.type import univ
from pysnmp.entity.engine import SnmpEngine
from pysnmp.entity.rfc3413 import cmdgen
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData, UdpTransportTarget, UsmUserData, usmAesCfb128Protocol,
    usmAesCfb192Protocol, usmAesCfb256Protocol, usmDESPrivProtocol, usmHMAC128SHA224AuthProtocol,
    usmHMAC192SHA256AuthProtocol, usmHMAC256SHA384AuthProtocol, usmHMAC384SHA512AuthProtocol,
    usmHMACMD5AuthProtocol, usmHMACSHAAuthProtocol, usmNoAuthProtocol, usmNoPrivProtocol,
)
from pysnmp.hlapi.v3arch.asyncio.lcd import CommandGeneratorLcdConfigurator
from pysnmp.proto import errind, rfc1902, rfc1905

from agent.config import SnmpAccess, SnmpPoller, SnmpUser
from agent.pollers.snmp import ber
from agent.pollers.snmp.types import (
    OID, SnmpAuthError, SnmpError, SnmpReplyError, SnmpTimeout, Table, Tag, Value, VarBind, format_oid,
)

MAX_ROWS = 100_000
"""Rows of one column a walk accepts before calling the device hostile."""

AUTH_PROTOCOLS = {
    "none": usmNoAuthProtocol, "md5": usmHMACMD5AuthProtocol, "sha": usmHMACSHAAuthProtocol,
    "sha224": usmHMAC128SHA224AuthProtocol, "sha256": usmHMAC192SHA256AuthProtocol,
    "sha384": usmHMAC256SHA384AuthProtocol, "sha512": usmHMAC384SHA512AuthProtocol,
}
# aes192/aes256 extend a short key the Reeder way (Cisco; net-snmp's AES-256-C), pysnmp's default.
PRIV_PROTOCOLS = {
    "none": usmNoPrivProtocol, "des": usmDESPrivProtocol,
    "aes": usmAesCfb128Protocol, "aes192": usmAesCfb192Protocol, "aes256": usmAesCfb256Protocol,
}
_FAST_VERSIONS = frozenset({"1", "2c"})
"""Versions sent through `ber.py`. Emptying it puts v1/v2c through pysnmp: how tests and benchmarks compare."""

_TAGS = {
    rfc1902.Integer32.tagSet: Tag.INTEGER, rfc1902.OctetString.tagSet: Tag.OCTET_STRING,
    univ.Null.tagSet: Tag.NULL, rfc1902.ObjectName.tagSet: Tag.OBJECT_IDENTIFIER,
    rfc1902.IpAddress.tagSet: Tag.IP_ADDRESS, rfc1902.Counter32.tagSet: Tag.COUNTER32,
    rfc1902.Gauge32.tagSet: Tag.GAUGE32, rfc1902.TimeTicks.tagSet: Tag.TIMETICKS,
    rfc1902.Opaque.tagSet: Tag.OPAQUE, rfc1902.Counter64.tagSet: Tag.COUNTER64,
    rfc1905.NoSuchObject.tagSet: Tag.NO_SUCH_OBJECT, rfc1905.NoSuchInstance.tagSet: Tag.NO_SUCH_INSTANCE,
    rfc1905.EndOfMibView.tagSet: Tag.END_OF_MIB_VIEW,
}
_INTEGERS = frozenset({Tag.INTEGER, Tag.COUNTER32, Tag.GAUGE32, Tag.TIMETICKS, Tag.COUNTER64})
_OCTETS = frozenset({Tag.OCTET_STRING, Tag.IP_ADDRESS, Tag.OPAQUE})
_AUTH_FAILURES = (
    errind.UnknownUserName, errind.WrongDigest, errind.UnknownSecurityName, errind.UnsupportedSecurityLevel,
    errind.DecryptionError, errind.AuthenticationError, errind.AuthenticationFailure, errind.NotInTimeWindow,
    errind.UnknownEngineID, errind.UnsupportedAuthProtocol, errind.UnsupportedPrivProtocol,
)
_NO_SUCH_NAME, _TOO_BIG, _AUTHORIZATION_ERROR = 2, 1, 16
_ERROR_STATUS = {
    0: "noError", 1: "tooBig", 2: "noSuchName", 3: "badValue", 4: "readOnly", 5: "genErr", 6: "noAccess",
    7: "wrongType", 8: "wrongLength", 9: "wrongEncoding", 10: "wrongValue", 11: "noCreation",
    12: "inconsistentValue", 13: "resourceUnavailable", 14: "commitFailed", 15: "undoFailed",
    16: "authorizationError", 17: "notWritable", 18: "inconsistentName",
}
_PDUS = {"GET": ber.GET_REQUEST, "GETNEXT": ber.GETNEXT_REQUEST, "GETBULK": ber.GETBULK_REQUEST}
_MAX_REQUEST_ID = (1 << 31) - 1
_RECEIVE_BUFFER = 4 << 20
"""Bytes asked of the kernel for the v1/v2c socket's receive queue (Linux caps it at net.core.rmem_max)."""
_NULL = univ.Null("")
_LCD = CommandGeneratorLcdConfigurator()

Reply = tuple[int, int, list[VarBind]]
"""What a path answers: (error status, error index, varbinds)."""

Address = tuple[str, int]
_Answer = tuple[int, int, int, list[VarBind]] | ber.BerError | None
"""A decoded Response, why a device's datagram did not decode, or None: no answer."""


# ---------------------------------------------------------------- per engine

@dataclass
class _EngineState:
    """What this module keeps per engine: who sent what, which v3 users it holds, its v1/v2c socket."""

    received: dict[Address, int] = field(default_factory=dict)
    undecodable: dict[Address, int] = field(default_factory=dict)
    users: dict[str, SnmpUser] = field(default_factory=dict)
    opening: asyncio.Task[_Datagrams] | None = None

    async def datagrams(self) -> _Datagrams:
        """The v1/v2c socket in the running loop, opened by whichever request comes first (asyncio binds it to a loop)."""
        loop = asyncio.get_running_loop()
        if self.opening is None or self.opening.get_loop() is not loop:
            self.opening = loop.create_task(_Datagrams.open())
        try:
            return await asyncio.shield(self.opening)
        except OSError:
            self.opening = None     # no socket to be had (file descriptors?): the next request tries again
            raise

    def close(self) -> None:
        opening, self.opening = self.opening, None
        if opening is None or opening.get_loop().is_closed():
            return
        if not opening.done():
            opening.cancel()
        elif not opening.cancelled() and opening.exception() is None:
            opening.result().close()


def _engine_state(engine: SnmpEngine) -> _EngineState:
    state = engine.get_user_context("vigil")
    if state is None:
        state = _EngineState()
        engine.set_user_context(vigil=state)
        _watch_receive(engine, state)
        close = engine.close_dispatcher

        def close_both() -> None:
            state.close()
            close()

        engine.close_dispatcher = close_both    # type: ignore[method-assign]
    return state


def _watch_receive(engine: SnmpEngine, state: _EngineState) -> None:
    """Count datagrams per sender, and those pysnmp could not decode (which it drops or lets escape)."""
    dispatcher = engine.message_dispatcher
    receive = dispatcher.receive_message
    (parse_errors,) = dispatcher.mib_instrum_controller.get_mib_builder().import_symbols(
        "__SNMPv2-MIB", "snmpInASNParseErrs")

    def watched(snmp_engine: SnmpEngine, domain: Any, address: Any, message: bytes) -> bytes:
        sender = (str(address[0]), int(address[1]))
        state.received[sender] = state.received.get(sender, 0) + 1
        before = int(parse_errors.syntax)
        try:
            rest: bytes = receive(snmp_engine, domain, address, message)
        except Exception:   # pyasn1 errors escape pysnmp into the event loop's handler
            rest = b""
            state.undecodable[sender] = state.undecodable.get(sender, 0) + 1
        else:
            if int(parse_errors.syntax) != before:
                state.undecodable[sender] = state.undecodable.get(sender, 0) + 1
        return rest

    dispatcher.receive_message = watched


# ---------------------------------------------------------------- v1/v2c: ber.py over one UDP socket

class _Datagrams(asyncio.DatagramProtocol):
    """One UDP socket carrying the v1/v2c requests of every client on an engine.

    `stray` counts replies that matched no pending request (late after their
    request gave up, duplicated, or from a stranger), `undecodable` the
    datagrams from a device awaiting replies that did not decode.
    """

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.stray = self.undecodable = 0
        self._pending: dict[Address, dict[int, asyncio.Future[_Answer]]] = {}
        # Start anywhere: an agent restarted mid-poll must not take its old replies for its new requests.
        self._last_id = random.randrange(_MAX_REQUEST_ID)

    @classmethod
    async def open(cls) -> _Datagrams:
        transport, protocol = await asyncio.get_running_loop().create_datagram_endpoint(cls, family=socket.AF_INET)
        # Replies from many devices queue here while the loop decodes; the default (≈200 KiB) would drop some.
        transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RECEIVE_BUFFER)
        return protocol

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, sender: Address) -> None:
        waiting = self._pending.get(sender)
        if not waiting:
            self.stray += 1
            return
        answer: _Answer
        try:
            answer = ber.decode_response(data)
        except ber.BerError as error:
            self.undecodable += 1
            for future in waiting.values():
                if not future.done():
                    future.set_result(error)
            return
        future = waiting.get(answer[0])
        if future is None or future.done():
            self.stray += 1
        else:
            future.set_result(answer)

    async def exchange(self, address: Address, encode: Callable[[int], bytes], timeout_s: float, tries: int) -> _Answer:
        """Send `encode(request_id)` up to `tries` times, `timeout_s` apart, and → what came back."""
        assert self.transport is not None       # `open` returns once connected
        waiting = self._pending.setdefault(address, {})
        request_id = self._last_id
        while True:
            request_id = request_id % _MAX_REQUEST_ID + 1
            if request_id not in waiting:
                break
        self._last_id = request_id
        future: asyncio.Future[_Answer] = asyncio.get_running_loop().create_future()
        waiting[request_id] = future
        try:
            message = encode(request_id)
            for _ in range(tries):      # the same request-id each time: a late answer to an earlier try counts
                self.transport.sendto(message, address)
                done, _ = await asyncio.wait((future,), timeout=timeout_s)
                if done:
                    return future.result()
            return None
        finally:
            del waiting[request_id]
            if not waiting:
                del self._pending[address]


class _CommunityPath:
    """SNMP v1/v2c: requests encoded by `ber.py`, sent through the engine's socket."""

    def __init__(self, state: _EngineState, device: str, host: str, access: SnmpAccess,
                 timeout_s: float, retries: int) -> None:
        self._state, self._device, self._host, self._port = state, device, host, access.port
        self._timeout_s, self._tries = timeout_s, retries + 1
        self._requests = ber.Requests(ber.VERSIONS[access.version], access.community.encode())
        self._address: Address | None = None
        self.who = f"SNMPv{access.version} community"

    async def _resolve(self) -> Address:
        if self._address is None:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(
                    self._host, self._port, family=socket.AF_INET, type=socket.SOCK_DGRAM)
            except socket.gaierror as error:
                raise SnmpError(f"{self._device}: cannot resolve {self._host!r}: {error.strerror}") from None
            self._address = infos[0][4][:2]
        return self._address

    async def request(self, kind: str, oids: list[OID], max_repetitions: int = 0) -> Reply:
        address = await self._resolve()
        datagrams = await self._state.datagrams()
        pdu, repetitions = _PDUS[kind], max_repetitions if kind == "GETBULK" else 0
        answer = await datagrams.exchange(
            address, lambda request_id: self._requests.encode(pdu, request_id, oids, 0, repetitions),
            self._timeout_s, self._tries)
        if answer is None:
            raise SnmpTimeout(f"{self._device}: {kind} {_describe(oids)}: no answer within "
                              f"{self._timeout_s:g} s × {self._tries} tries")
        if isinstance(answer, ber.BerError):
            raise SnmpReplyError(f"{self._device}: {kind} {_describe(oids)}: the device answered with a reply "
                                 f"that cannot be decoded ({answer})")
        return answer[1], answer[2], answer[3]


# ---------------------------------------------------------------- v3: pysnmp

class _PysnmpPath:
    """SNMPv3 (or any version, when `_FAST_VERSIONS` says so) through pysnmp's command generators."""

    def __init__(self, engine: SnmpEngine, state: _EngineState, device: str, host: str, access: SnmpAccess,
                 timeout_s: float, retries: int) -> None:
        self._engine, self._state, self._device, self._host, self._access = engine, state, device, host, access
        self._timeout_s, self._retries = timeout_s, retries
        self._auth = self._auth_data(access)
        self._context = access.user.context.encode() if access.user else b""
        self._target: str | None = None
        self._get, self._next, self._bulk = (
            cmdgen.GetCommandGenerator(), cmdgen.NextCommandGeneratorSingleRun(), cmdgen.BulkCommandGeneratorSingleRun())
        user = access.user
        self.who = (f"SNMPv3 user {user.name!r}, {self._auth.security_level}" if user is not None
                    else f"SNMPv{access.version} community")

    def _auth_data(self, access: SnmpAccess) -> CommunityData | UsmUserData:
        if access.version != "3":
            return CommunityData(access.community, mpModel=0 if access.version == "1" else 1)
        user = access.user
        assert user is not None    # SnmpAccess guarantees it for v3
        known = self._state.users.setdefault(user.name, user)
        if (known.auth_protocol, known.auth_key, known.priv_protocol, known.priv_key) != (
                user.auth_protocol, user.auth_key, user.priv_protocol, user.priv_key):
            raise ValueError(f"SNMPv3 user {user.name!r} is already on this SnmpEngine with other keys or "
                             f"protocols; give {self._device} an SnmpEngine of its own")
        return UsmUserData(
            user.name,
            authKey=user.auth_key or None, privKey=user.priv_key or None,
            authProtocol=AUTH_PROTOCOLS[user.auth_protocol], privProtocol=PRIV_PROTOCOLS[user.priv_protocol],
        )

    async def _target_name(self) -> str:
        if self._target is None:
            target = await UdpTransportTarget.create(
                (self._host, self._access.port), timeout=self._timeout_s, retries=self._retries)
            self._target, _ = _LCD.configure(self._engine, self._auth, target, self._context)
        return self._target

    async def request(self, kind: str, oids: list[OID], max_repetitions: int = 0) -> Reply:
        target = await self._target_name()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[Any, int, int, list[Any]]] = loop.create_future()

        def answered(engine: Any, handle: Any, indication: Any, status: Any, index: Any, varbinds: Any, ctx: Any) -> None:
            if not future.done():
                future.set_result((indication, int(status), int(index), varbinds))

        request = [(rfc1902.ObjectName(oid), _NULL) for oid in oids]
        sender = (self._host, self._access.port)
        received = self._state.received.get(sender, 0)
        undecodable = self._state.undecodable.get(sender, 0)
        if kind == "GETBULK":
            self._bulk.send_varbinds(self._engine, target, None, self._context, 0, max_repetitions, request, answered)
        else:
            generator = self._get if kind == "GET" else self._next
            generator.send_varbinds(self._engine, target, None, self._context, request, answered)
        # pysnmp's own timer ends the request; this bound only guards against it never firing.
        bound = self._timeout_s * (self._retries + 1) * (2 if self._access.version == "3" else 1) + 1.0
        try:
            indication, status, index, varbinds = await asyncio.wait_for(future, bound)
        except TimeoutError:
            indication, status, index, varbinds = errind.requestTimedOut, 0, 0, []
        if indication is None:
            return status, index, [self._varbind(name, value) for name, value in varbinds]
        what = f"{self._device}: {kind} {_describe(oids)}"
        if isinstance(indication, errind.RequestTimedOut):
            if self._state.undecodable.get(sender, 0) != undecodable:
                raise SnmpReplyError(f"{what}: the device answered with a reply that cannot be decoded")
            if self._access.version == "3" and self._state.received.get(sender, 0) != received:
                raise SnmpAuthError(f"{what}: the device answered SNMPv3 discovery but not the request "
                                    f"(wrong privacy key or protocol? {self.who})")
            raise SnmpTimeout(f"{what}: no answer within {self._timeout_s:g} s × {self._retries + 1} tries")
        if isinstance(indication, _AUTH_FAILURES):
            raise SnmpAuthError(f"{what}: {indication} ({self.who})")
        raise SnmpReplyError(f"{what}: {indication}")

    def _varbind(self, name: Any, value: Any) -> VarBind:
        oid = name.asTuple()
        tag = _TAGS.get(value.tagSet)
        if tag is None:
            raise SnmpReplyError(f"{self._device}: {format_oid(oid)}: a value of type {type(value).__name__} is not an SNMP type")
        converted: Value = None
        if tag in _INTEGERS:
            converted = int(value)
        elif tag in _OCTETS:
            converted = value.asOctets()
        elif tag == Tag.OBJECT_IDENTIFIER:
            converted = value.asTuple()
        return oid, tag, converted


# ---------------------------------------------------------------- the client

class SnmpClient:
    """One device's SNMP client. Requests may run concurrently; each is bounded by timeout × (retries + 1)."""

    def __init__(
        self, engine: SnmpEngine, host: str, access: SnmpAccess, *,
        timeout_s: float, retries: int, max_repetitions: int, max_rows: int = MAX_ROWS,
    ) -> None:
        self.device = f"{host}:{access.port}"
        self._timeout_s, self._retries = timeout_s, retries
        self._max_repetitions, self._max_rows = max_repetitions, max_rows
        self._v1 = access.version == "1"
        state = _engine_state(engine)
        self._path = (
            _CommunityPath(state, self.device, host, access, timeout_s, retries) if access.version in _FAST_VERSIONS
            else _PysnmpPath(engine, state, self.device, host, access, timeout_s, retries))

    @classmethod
    def for_device(cls, engine: SnmpEngine, host: str, access: SnmpAccess, defaults: SnmpPoller) -> SnmpClient:
        """A client with the device's own timeout/retries/max-repetitions, else the poller's."""
        return cls(
            engine, host, access,
            timeout_s=access.timeout if access.timeout is not None else defaults.timeout,
            retries=access.retries if access.retries is not None else defaults.retries,
            max_repetitions=access.max_repetitions if access.max_repetitions is not None else defaults.max_repetitions,
        )

    def _status_error(self, kind: str, oids: Sequence[OID], status: int, index: int) -> Exception:
        culprit = format_oid(oids[index - 1]) if 0 < index <= len(oids) else _describe(oids)
        message = f"{self.device}: {kind} {culprit}: the device answered {_ERROR_STATUS.get(status, status)}"
        return SnmpAuthError(f"{message} ({self._path.who})") if status == _AUTHORIZATION_ERROR else SnmpReplyError(message)

    # ------------------------------------------------------------ GET

    async def get(self, oids: Sequence[OID]) -> list[VarBind]:
        """The values of `oids`, in order; an object the device has not comes back as an exception tag."""
        asked = [tuple(oid) for oid in oids]
        answers: dict[int, VarBind] = {}
        await self._get_into(asked, list(range(len(asked))), answers)
        return [answers[position] for position in range(len(asked))]

    async def _get_into(self, oids: list[OID], positions: list[int], answers: dict[int, VarBind]) -> None:
        while positions:
            asked = [oids[p] for p in positions]
            status, index, varbinds = await self._path.request("GET", asked)
            if status == _NO_SUCH_NAME and self._v1 and 0 < index <= len(positions):
                # v1 has no per-varbind exceptions: drop the missing object and ask again for the rest.
                missing = positions.pop(index - 1)
                answers[missing] = (oids[missing], Tag.NO_SUCH_OBJECT, None)
                continue
            if status == _TOO_BIG and len(positions) > 1:
                half = len(positions) // 2
                await self._get_into(oids, positions[:half], answers)
                await self._get_into(oids, positions[half:], answers)
                return
            if status:
                raise self._status_error("GET", asked, status, index)
            if len(varbinds) != len(asked):
                raise SnmpReplyError(f"{self.device}: GET {_describe(asked)}: {len(varbinds)} values for {len(asked)} OIDs")
            for position, oid, varbind in zip(positions, asked, varbinds):
                if varbind[0] != oid:
                    raise SnmpReplyError(f"{self.device}: GET {format_oid(oid)}: the reply names {format_oid(varbind[0])}")
                answers[position] = varbind
            return

    # ------------------------------------------------------------ walk

    async def walk(self, columns: Sequence[OID], max_repetitions: int | None = None) -> Table:
        """Walk table columns side by side: one request advances every column still in its subtree.

        GETBULK under v2c/v3, GETNEXT under v1. A reply that does not move a
        column forward (a loop) or a column longer than `max_rows` raises
        `SnmpReplyError` instead of walking forever.
        """
        repetitions = max_repetitions or self._max_repetitions
        table: Table = {tuple(column): {} for column in columns}
        last: dict[OID, OID] = {root: root for root in table}
        active = list(table)
        kind = "GETNEXT" if self._v1 else "GETBULK"
        while active:
            asked = [last[root] for root in active]
            status, index, varbinds = await self._path.request(kind, asked, repetitions)
            if self._v1 and status == _NO_SUCH_NAME and 0 < index <= len(active):
                active = active[:index - 1] + active[index:]     # v1's end of the MIB for that column
                continue
            if status == _TOO_BIG and repetitions > 1:
                repetitions //= 2
                continue
            if status:
                raise self._status_error(kind, asked, status, index)
            per_column = 1 if self._v1 else repetitions
            if not varbinds or len(varbinds) > len(active) * per_column:
                raise SnmpReplyError(f"{self.device}: {kind} {_describe(asked)}: {len(varbinds)} values "
                                     f"for {len(active)} column(s) × {per_column}")
            active = self._take(active, varbinds, table, last)
        return table

    def _take(self, active: list[OID], varbinds: list[VarBind], table: Table, last: dict[OID, OID]) -> list[OID]:
        """File a GETBULK/GETNEXT reply's varbinds (row-major over `active`) into their columns; → the columns to go on with."""
        width = len(active)
        going_on = []
        for offset, root in enumerate(active):
            size, column, previous = len(root), table[root], last[root]
            for oid, tag, value in varbinds[offset::width]:
                if tag == Tag.END_OF_MIB_VIEW or oid[:size] != root:
                    break
                if oid <= previous:
                    raise SnmpReplyError(f"{self.device}: walk of {format_oid(root)}: {format_oid(oid)} does not "
                                         f"follow {format_oid(previous)} (the device's walk loops)")
                column[oid[size:]] = (tag, value)
                previous = oid
            else:
                going_on.append(root)
            if len(column) > self._max_rows:
                raise SnmpReplyError(f"{self.device}: walk of {format_oid(root)}: more than {self._max_rows} rows")
            last[root] = previous
        return going_on


def _describe(oids: Sequence[OID]) -> str:
    shown = ", ".join(format_oid(oid) for oid in oids[:3])
    return shown + (f" and {len(oids) - 3} more" if len(oids) > 3 else "")
