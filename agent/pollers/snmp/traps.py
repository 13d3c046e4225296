"""Receive SNMP traps and informs (v1, v2c, v3) and hand each on as a Vigil event.

pysnmp's notification receiver does the protocol: community and USM checks
(a trap with a wrong community or key is dropped by pysnmp and never
reaches us), decryption, the v1 → v2 conversion and the response to an
inform. This module decides what a trap *means*: the sender's address names
the device, the trap OID is looked up in every loaded profile's `traps:`
(trap OIDs are vendor-prefixed, so the union has no clashes), and the
profile's message is filled in from the named varbinds. An unknown trap is
still forwarded, as `snmp_trap`, with its varbinds, so nothing a device says
is lost for want of a profile.

The event leaves with the next batch at once (see `Batcher.add_event`), so it
shares the batches' durable buffer: a trap received while the link is down
reaches the collector when the link is back.
"""

from __future__ import annotations

import logging
import socket
import string
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from agent.config import Device, SnmpTraps, SnmpUser
from agent.pollers.snmp.profiles import ProfileSet, Trap
from agent.pollers.snmp.types import OID, format_oid
from protos.vigil.v1 import agent_pb2 as pb

log = logging.getLogger("vigil.agent.snmp.traps")

SNMP_TRAP_OID = (1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0)
SYS_UPTIME = (1, 3, 6, 1, 2, 1, 1, 3, 0)
MAX_ATTRIBUTES = 40
MAX_TEXT = 300

EventSink = Callable[[pb.Event], None]


class TrapCatalogue:
    """Every profile's trap definitions, by trap OID."""

    def __init__(self, profiles: ProfileSet) -> None:
        self._traps: dict[OID, Trap] = {}
        for name in sorted(profiles.profiles):
            for oid, trap in profiles.profiles[name].traps.items():
                self._traps.setdefault(oid, trap)

    def get(self, oid: OID) -> Trap | None:
        return self._traps.get(oid)


def devices_by_address(devices: Iterable[Device]) -> dict[str, str]:
    """Sender IP → device id, for every device with an address (names resolved once, at start)."""
    found: dict[str, str] = {}
    for device in devices:
        if not device.address:
            continue
        try:
            infos = socket.getaddrinfo(device.address, None, type=socket.SOCK_DGRAM)
        except OSError:
            log.warning("device %s: cannot resolve %r; its traps will show as from an unknown sender", device.id, device.address)
            continue
        for info in infos:
            found.setdefault(str(info[4][0]), device.id)
    return found


def text_of(value: Any) -> str:
    """A varbind value as one line of text: strings decoded, control characters dropped, length capped."""
    from pyasn1.type import univ
    from pysnmp.proto import rfc1902

    if isinstance(value, univ.OctetString) and not isinstance(value, rfc1902.IpAddress):
        text = value.asOctets().decode("utf-8", "replace")  # prettyPrint would show non-ASCII as hex
    else:
        text = value.prettyPrint()
    text = "".join(ch for ch in text if ch.isprintable())
    return text[:MAX_TEXT]


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def render(template: str, values: Mapping[str, str]) -> str:
    return string.Formatter().vformat(template, (), _Blank(values))


def event_for(
    catalogue: TrapCatalogue, device: str, sender: str, varbinds: list[tuple[OID, str]], now_ms: int
) -> pb.Event:
    """The event for one received notification (varbinds already as (oid, text))."""
    values = dict(varbinds)
    trap_oid = values.get(SNMP_TRAP_OID, "")
    try:
        trap = catalogue.get(tuple(int(p) for p in trap_oid.split("."))) if trap_oid else None
    except ValueError:
        trap = None
    shown = device or sender
    attributes = {"trap_oid": trap_oid or "?", "sender": sender}
    for oid, text in varbinds:
        if oid not in (SNMP_TRAP_OID, SYS_UPTIME) and len(attributes) < MAX_ATTRIBUTES:
            attributes[format_oid(oid)] = text
    if trap is None:
        return pb.Event(
            device=device, at_ms=now_ms, source="snmp_trap", name="snmp_trap", severity="info",
            message=f"{shown} sent SNMP trap {trap_oid or '(no trap OID)'}", attributes=attributes,
        )
    fields = {"device": shown}
    for name, prefix in trap.fields.items():
        for oid, text in varbinds:
            if oid[: len(prefix)] == prefix:
                fields[name] = text
                attributes[name] = text
                break
    if trap.message.zh:
        attributes["message_zh"] = render(trap.message.zh, fields)[:MAX_TEXT]
    if trap.clears:
        attributes["clears"] = trap.clears
    return pb.Event(
        device=device, at_ms=now_ms, source="snmp_trap", name=trap.event, severity=trap.severity,
        message=render(trap.message.en, fields)[:MAX_TEXT], attributes=attributes,
    )


class TrapReceiver:
    """Listens on `settings.listen` until cancelled; every accepted trap or inform becomes an event."""

    def __init__(self, settings: SnmpTraps, devices: Iterable[Device], profiles: ProfileSet, sink: EventSink) -> None:
        self._settings = settings
        self._devices = devices_by_address(devices)
        self._catalogue = TrapCatalogue(profiles)
        self._sink = sink
        self.received = 0
        self._engine: Any = None

    def start(self) -> tuple[str, int]:
        """Open the socket and register the receiver; returns the address it listens on."""
        from pysnmp.carrier.asyncio.dgram import udp
        from pysnmp.entity import config, engine
        from pysnmp.entity.rfc3413 import ntfrcv

        host, _, port = self._settings.listen.rpartition(":")
        # Bound here rather than by pysnmp, which binds later in a task: a port
        # in use or a privileged port must fail now, with the OS's reason.
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((host, int(port)))
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        bound = sock.getsockname()
        self._engine = snmp_engine = engine.SnmpEngine()
        config.add_transport(snmp_engine, udp.DOMAIN_NAME + (1,), udp.UdpTransport().open_server_mode(sock=sock))
        for index, community in enumerate(self._settings.communities):
            config.add_v1_system(snmp_engine, f"trap-community-{index}", community)
        for user in self._settings.users:
            _add_user(snmp_engine, user)
        ntfrcv.NotificationReceiver(snmp_engine, self._received)
        log.info(
            "receiving SNMP traps on %s:%d (%d communities, %d v3 users)",
            bound[0], bound[1], len(self._settings.communities), len(self._settings.users),
        )
        return str(bound[0]), int(bound[1])

    def stop(self) -> None:
        if self._engine is not None:
            self._engine.transport_dispatcher.close_dispatcher()
            self._engine = None

    def _received(self, snmp_engine: Any, state_reference: Any, context_engine_id: Any, context_name: Any,
                  varbinds: Any, context: Any) -> None:
        try:
            _, address = snmp_engine.message_dispatcher.get_transport_info(state_reference)
            sender = f"{address[0]}:{address[1]}"
            device = self._devices.get(str(address[0]), "")
            pairs = [(tuple(name), text_of(value)) for name, value in varbinds]
            event = event_for(self._catalogue, device, sender, pairs, int(time.time() * 1000))
        except Exception:  # noqa: BLE001 - a strange trap must not stop the receiver
            log.exception("could not read a notification; dropped it")
            return
        self.received += 1
        log.info("trap from %s: %s (%s)", device or sender, event.name, event.severity)
        self._sink(event)


def _add_user(snmp_engine: Any, user: SnmpUser) -> None:
    """A v3 user for informs (this engine is authoritative) and, with `engine_id`, for that device's traps."""
    from pysnmp.entity import config
    from pysnmp.proto.api import v2c

    from agent.pollers.snmp.client import AUTH_PROTOCOLS, PRIV_PROTOCOLS

    keys = dict(
        authProtocol=AUTH_PROTOCOLS[user.auth_protocol], authKey=user.auth_key or None,
        privProtocol=PRIV_PROTOCOLS[user.priv_protocol], privKey=user.priv_key or None,
    )
    config.add_v3_user(snmp_engine, user.name, **keys)
    if user.engine_id:
        engine_id = v2c.OctetString(hexValue=user.engine_id.removeprefix("0x"))
        config.add_v3_user(snmp_engine, user.name, securityEngineId=engine_id, **keys)
