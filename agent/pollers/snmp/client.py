"""The agent's SNMP client: GETs and column walks on pysnmp 7's asyncio engine, answers as plain tuples.

The target (credentials, address, timeout) is configured once per client with
the hlapi's own configurator, then every request goes straight to pysnmp's
command generators with numeric OIDs. `get_cmd`/`bulk_cmd` would instead
resolve each OID through the MIB viewer and wrap each answer in `ObjectType`
on every call, about a third of the client's CPU on a table walk.

One `SnmpEngine` serves any number of clients (one UDP socket, one timer).
pysnmp keys a v3 user by its name alone, so two devices whose users share a
name but not their keys need engines of their own: the client refuses to mix
them rather than let one device's keys silently replace the other's.

pysnmp drops a reply it cannot decode and lets the request time out; a hook
on the engine's receive path notes which address sent it, so that timeout
is reported as the bad reply it was. Errors name the device and the OIDs,
never the community or a key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
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
from agent.pollers.snmp.types import (
    OID, SnmpAuthError, SnmpReplyError, SnmpTimeout, Table, Tag, Value, VarBind, format_oid,
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
_NULL = univ.Null("")
_LCD = CommandGeneratorLcdConfigurator()


@dataclass
class _EngineState:
    """What this module keeps per engine: who sent what, and which v3 users it holds."""

    received: dict[tuple[str, int], int] = field(default_factory=dict)
    undecodable: dict[tuple[str, int], int] = field(default_factory=dict)
    users: dict[str, SnmpUser] = field(default_factory=dict)


def _engine_state(engine: SnmpEngine) -> _EngineState:
    state = engine.get_user_context("vigil")
    if state is None:
        state = _EngineState()
        engine.set_user_context(vigil=state)
        _watch_receive(engine, state)
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


def _convert(tag: int, value: Any) -> Value:
    if tag in _INTEGERS:
        return int(value)
    if tag in _OCTETS:
        return value.asOctets()
    if tag == Tag.OBJECT_IDENTIFIER:
        return value.asTuple()
    return None


class SnmpClient:
    """One device's SNMP client. Requests may run concurrently; each is bounded by timeout × (retries + 1)."""

    def __init__(
        self, engine: SnmpEngine, host: str, access: SnmpAccess, *,
        timeout_s: float, retries: int, max_repetitions: int, max_rows: int = MAX_ROWS,
    ) -> None:
        self.device = f"{host}:{access.port}"
        self._engine, self._host, self._access = engine, host, access
        self._timeout_s, self._retries = timeout_s, retries
        self._max_repetitions, self._max_rows = max_repetitions, max_rows
        self._state = _engine_state(engine)
        self._auth = self._auth_data(access)
        self._context = access.user.context.encode() if access.user else b""
        self._target: str | None = None
        self._get, self._next, self._bulk = (
            cmdgen.GetCommandGenerator(), cmdgen.NextCommandGeneratorSingleRun(), cmdgen.BulkCommandGeneratorSingleRun())

    @classmethod
    def for_device(cls, engine: SnmpEngine, host: str, access: SnmpAccess, defaults: SnmpPoller) -> SnmpClient:
        """A client with the device's own timeout/retries/max-repetitions, else the poller's."""
        return cls(
            engine, host, access,
            timeout_s=access.timeout if access.timeout is not None else defaults.timeout,
            retries=access.retries if access.retries is not None else defaults.retries,
            max_repetitions=access.max_repetitions if access.max_repetitions is not None else defaults.max_repetitions,
        )

    def _auth_data(self, access: SnmpAccess) -> CommunityData | UsmUserData:
        if access.version != "3":
            return CommunityData(access.community, mpModel=0 if access.version == "1" else 1)
        user = access.user
        assert user is not None    # SnmpAccess guarantees it for v3
        known = self._state.users.setdefault(user.name, user)
        if (known.auth_protocol, known.auth_key, known.priv_protocol, known.priv_key) != (
                user.auth_protocol, user.auth_key, user.priv_protocol, user.priv_key):
            raise ValueError(f"SNMPv3 user {user.name!r} is already on this SnmpEngine with other keys or "
                             f"protocols; give {self.device} an SnmpEngine of its own")
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

    # ------------------------------------------------------------ one request

    async def _request(self, kind: str, oids: Sequence[Any], max_repetitions: int = 0) -> tuple[int, int, list[Any]]:
        """Send one PDU; → (error status, error index, varbinds as pyasn1 pairs), or raise SnmpError."""
        target = await self._target_name()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[Any, int, int, list[Any]]] = loop.create_future()

        def answered(engine: Any, handle: Any, indication: Any, status: Any, index: Any, varbinds: Any, ctx: Any) -> None:
            if not future.done():
                future.set_result((indication, int(status), int(index), varbinds))

        request = [(oid, _NULL) for oid in oids]
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
            return status, index, varbinds
        what = f"{self.device}: {kind} {_describe(oids)}"
        if isinstance(indication, errind.RequestTimedOut):
            if self._state.undecodable.get(sender, 0) != undecodable:
                raise SnmpReplyError(f"{what}: the device answered with a reply that cannot be decoded")
            if self._access.version == "3" and self._state.received.get(sender, 0) != received:
                raise SnmpAuthError(f"{what}: the device answered SNMPv3 discovery but not the request "
                                    f"(wrong privacy key or protocol? {self._who})")
            raise SnmpTimeout(f"{what}: no answer within {self._timeout_s:g} s × {self._retries + 1} tries")
        if isinstance(indication, _AUTH_FAILURES):
            raise SnmpAuthError(f"{what}: {indication} ({self._who})")
        raise SnmpReplyError(f"{what}: {indication}")

    def _status_error(self, kind: str, oids: Sequence[Any], status: int, index: int) -> Exception:
        culprit = format_oid(oids[index - 1].asTuple()) if 0 < index <= len(oids) else _describe(oids)
        message = f"{self.device}: {kind} {culprit}: the device answered {_ERROR_STATUS.get(status, status)}"
        return SnmpAuthError(f"{message} ({self._who})") if status == _AUTHORIZATION_ERROR else SnmpReplyError(message)

    @property
    def _who(self) -> str:
        """Whose access failed, without the secret: the v3 user and level, or just "the community"."""
        if self._access.user is None:
            return f"SNMPv{self._access.version} community"
        return f"SNMPv3 user {self._access.user.name!r}, {self._auth.security_level}"

    # ------------------------------------------------------------ GET

    async def get(self, oids: Sequence[OID]) -> list[VarBind]:
        """The values of `oids`, in order; an object the device has not comes back as an exception tag."""
        names = [rfc1902.ObjectName(oid) for oid in oids]
        answers: dict[int, VarBind] = {}
        await self._get_into(names, list(range(len(oids))), answers)
        return [answers[position] for position in range(len(oids))]

    async def _get_into(self, names: list[Any], positions: list[int], answers: dict[int, VarBind]) -> None:
        while positions:
            asked = [names[p] for p in positions]
            status, index, varbinds = await self._request("GET", asked)
            if status == _NO_SUCH_NAME and self._access.version == "1" and 0 < index <= len(positions):
                # v1 has no per-varbind exceptions: drop the missing object and ask again for the rest.
                missing = positions.pop(index - 1)
                answers[missing] = (names[missing].asTuple(), Tag.NO_SUCH_OBJECT, None)
                continue
            if status == _TOO_BIG and len(positions) > 1:
                half = len(positions) // 2
                await self._get_into(names, positions[:half], answers)
                await self._get_into(names, positions[half:], answers)
                return
            if status:
                raise self._status_error("GET", asked, status, index)
            if len(varbinds) != len(asked):
                raise SnmpReplyError(f"{self.device}: GET {_describe(asked)}: {len(varbinds)} values for {len(asked)} OIDs")
            for position, name, (got, value) in zip(positions, asked, varbinds):
                oid = got.asTuple()
                if oid != name.asTuple():
                    raise SnmpReplyError(f"{self.device}: GET {format_oid(name.asTuple())}: the reply names {format_oid(oid)}")
                answers[position] = (oid, *self._typed(value, oid))
            return

    def _typed(self, value: Any, oid: OID) -> tuple[int, Value]:
        tag = _TAGS.get(value.tagSet)
        if tag is None:
            raise SnmpReplyError(f"{self.device}: {format_oid(oid)}: a value of type {type(value).__name__} is not an SNMP type")
        return tag, _convert(tag, value)

    # ------------------------------------------------------------ walk

    async def walk(self, columns: Sequence[OID], max_repetitions: int | None = None) -> Table:
        """Walk table columns side by side: one request advances every column still in its subtree.

        GETBULK under v2c/v3, GETNEXT under v1. A reply that does not move a
        column forward (a loop) or a column longer than `max_rows` raises
        `SnmpReplyError` instead of walking forever.
        """
        repetitions = max_repetitions or self._max_repetitions
        table: Table = {column: {} for column in columns}
        roots = list(table)
        cursors: dict[OID, Any] = {root: rfc1902.ObjectName(root) for root in roots}
        last: dict[OID, OID] = {root: root for root in roots}
        active = roots
        v1 = self._access.version == "1"
        while active:
            asked = [cursors[root] for root in active]
            kind = "GETNEXT" if v1 else "GETBULK"
            status, index, varbinds = await self._request(kind, asked, repetitions)
            if v1 and status == _NO_SUCH_NAME and 0 < index <= len(active):
                active = active[:index - 1] + active[index:]     # v1's end of the MIB for that column
                continue
            if status == _TOO_BIG and repetitions > 1:
                repetitions //= 2
                continue
            if status:
                raise self._status_error(kind, asked, status, index)
            if not varbinds or len(varbinds) > len(active) * (1 if v1 else repetitions):
                raise SnmpReplyError(f"{self.device}: {kind} {_describe(asked)}: {len(varbinds)} values "
                                     f"for {len(active)} column(s) × {1 if v1 else repetitions}")
            active = self._take(active, varbinds, table, cursors, last)
        return table

    def _take(self, active: list[OID], varbinds: list[Any], table: Table,
              cursors: dict[OID, Any], last: dict[OID, OID]) -> list[OID]:
        """File a GETBULK/GETNEXT reply's varbinds (row-major over `active`) into their columns."""
        width = len(active)
        ended: set[OID] = set()
        for position, (name, value) in enumerate(varbinds):
            root = active[position % width]
            if root in ended:
                continue
            oid = name.asTuple()
            tag = _TAGS.get(value.tagSet)
            if tag == Tag.END_OF_MIB_VIEW or oid[:len(root)] != root:
                ended.add(root)
                continue
            if oid <= last[root]:
                raise SnmpReplyError(f"{self.device}: walk of {format_oid(root)}: {format_oid(oid)} does not "
                                     f"follow {format_oid(last[root])} (the device's walk loops)")
            if tag is None:
                raise SnmpReplyError(f"{self.device}: {format_oid(oid)}: a value of type {type(value).__name__} is not an SNMP type")
            column = table[root]
            column[oid[len(root):]] = (tag, _convert(tag, value))
            if len(column) > self._max_rows:
                raise SnmpReplyError(f"{self.device}: walk of {format_oid(root)}: more than {self._max_rows} rows")
            last[root], cursors[root] = oid, name
        return [root for root in active if root not in ended]


def _describe(oids: Sequence[Any]) -> str:
    shown = ", ".join(format_oid(tuple(oid)) for oid in oids[:3])
    return shown + (f" and {len(oids) - 3} more" if len(oids) > 3 else "")
