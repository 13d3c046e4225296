"""The SNMP poller: one per device with an `snmp:` block, all sharing one pysnmp engine.

A poll asks the device what it is (sysObjectID, sysDescr) the first time and
after every reboot, picks the profile (`profiles.py`), then GETs the
profile's scalars and walks its tables, one bulk walk per table with all of
that table's columns, and hands the answers to the device's `Extractor`.

Many devices poll at once, but never more than `pollers.snmp.max_in_flight`:
a site with 300 switches must not send 300 bursts at the same second. Each
device has its own task in the scheduler, so a slow or dead device delays
only itself; its failures become `vigil_poll_up = 0` with the error kind
(`timeout`, `auth`, `bad_reply`), which is what "device unreachable" checks
read.

pysnmp is imported only when a device is configured for SNMP: it costs the
agent ~20 MiB of RSS.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from agent import pollers
from agent.config import AgentConfig, Device, SnmpAccess, SnmpPoller as SnmpSettings
from agent.pollers.snmp.client import SnmpClient
from agent.pollers.snmp.extract import Extractor
from agent.pollers.snmp.profiles import Profile, ProfileSet
from agent.pollers.snmp.types import OID, Table, Tag, VarBind
from agent.samples import Poll

SYS_DESCR: OID = (1, 3, 6, 1, 2, 1, 1, 1, 0)
SYS_OBJECT_ID: OID = (1, 3, 6, 1, 2, 1, 1, 2, 0)


@dataclass(frozen=True, slots=True)
class Identity:
    """What a device says it is, and the profile that follows."""

    sys_object_id: OID
    sys_descr: str
    profile: Profile


async def identify(client: SnmpClient, profiles: ProfileSet, forced: str = "") -> Identity:
    """Ask the device for sysObjectID and sysDescr and choose its profile."""
    answers = {oid: (tag, value) for oid, tag, value in await client.get([SYS_OBJECT_ID, SYS_DESCR])}
    tag, value = answers.get(SYS_OBJECT_ID, (Tag.NULL, None))
    object_id: OID = value if tag == Tag.OBJECT_IDENTIFIER and isinstance(value, tuple) else ()
    tag, value = answers.get(SYS_DESCR, (Tag.NULL, None))
    descr = value.decode("utf-8", "replace") if tag == Tag.OCTET_STRING and isinstance(value, bytes) else ""
    return Identity(object_id, descr, profiles.select(object_id, descr, forced))


Walks = dict[str, tuple[OID, ...]]


async def fetch(client: SnmpClient, profile: Profile, walks: Walks) -> tuple[list[VarBind], Table]:
    """The profile's scalars (one GET) and the `walks` (one per table, concurrently), as the extractor takes them."""
    scalars_request = client.get(list(profile.get_oids)) if profile.get_oids else None
    walks = [client.walk(list(columns)) for columns in walks.values() if columns]
    results = await asyncio.gather(*([scalars_request] if scalars_request else []), *walks)
    scalars: list[VarBind] = results[0] if scalars_request else []
    table: Table = {}
    for walked in results[1 if scalars_request else 0 :]:
        table.update(walked)
    return scalars, table


def learned_walks(profile: Profile, table: Table) -> Walks:
    """The columns worth walking on this device, judged from one full walk.

    A profile lists fallbacks (ifInOctets after ifHCInOctets) and columns
    that only some devices have. Walking them all costs a 48-port switch
    ~30 % more varbinds, and varbinds are what a poll's CPU is made of. So a
    fallback is dropped where the preferred column answered for every row the
    fallback did, and a column that answered nothing is dropped. The full
    plan is walked again after a reboot and every `RELEARN_EVERY` polls, so
    a module added later is not missed for long.
    """
    learned: Walks = {}
    for name, group in profile.tables.items():
        keep: list[OID] = []
        for alternatives in group.columns.values():
            covered: set[OID] = set()
            for oid in alternatives:
                rows = table.get(oid, {}).keys()
                if rows and not rows <= covered:
                    keep.append(oid)
                    covered |= rows
        learned[name] = tuple(dict.fromkeys(keep))
    return learned


RELEARN_EVERY = 60


class SnmpDevicePoller:
    kind = "snmp"

    def __init__(self, device: Device, client: SnmpClient, profiles: ProfileSet, settings: SnmpSettings,
                 gate: asyncio.Semaphore) -> None:
        access = device.snmp
        assert access is not None
        self.device_id = device.id
        self.interval_s = access.interval or settings.interval
        # The whole poll (identify, GET, walks) must end before the next tick is due.
        self.timeout_s = self.interval_s * 0.9
        self._client = client
        self._profiles = profiles
        self._forced = access.profile
        self._gate = gate
        self.identity: Identity | None = None
        self._extractor: Extractor | None = None
        self._walks: Walks | None = None    # None: walk the profile's full plan, then learn
        self._polls_since_learning = 0

    async def poll(self) -> Poll:
        async with self._gate:
            at_s = time.time()
            if self.identity is None:
                self.identity = await identify(self._client, self._profiles, self._forced)
                self._extractor = Extractor(self.identity.profile)
                self._walks = None
            assert self._extractor is not None
            profile = self.identity.profile
            scalars, table = await fetch(self._client, profile, self._walks or profile.walks)
        self._polls_since_learning += 1
        if self._walks is None:
            self._walks, self._polls_since_learning = learned_walks(profile, table), 0
        elif self._polls_since_learning >= RELEARN_EVERY:
            self._walks = None
        samples = self._extractor.extract(scalars, table, at_s)
        if self._extractor.rebooted:
            self.identity = None  # a reboot may come with new firmware: ask again next time
        samples.append(("snmp_profile_info", (("profile", self._extractor.profile.name),), 1.0))
        bad = sum(self._extractor.bad_values.values())
        samples.append(("snmp_bad_values", (), float(bad)))
        return Poll(self.device_id, int(at_s * 1000), samples)


def _engines_for(devices: list[Device]) -> dict[str, object]:
    """Device id → the SnmpEngine it uses: one shared, plus one per v3 user name whose keys differ."""
    from pysnmp.entity.engine import SnmpEngine

    shared = SnmpEngine()
    engines: list[tuple[object, dict[str, object]]] = [(shared, {})]
    chosen: dict[str, object] = {}
    for device in devices:
        access: SnmpAccess = device.snmp  # type: ignore[assignment]
        user = access.user
        for engine, users in engines:
            if user is None or users.get(user.name, user) == user:
                break
        else:
            engine, users = SnmpEngine(), {}
            engines.append((engine, users))
        if user is not None:
            users[user.name] = user
        chosen[device.id] = engine
    return chosen


@pollers.register("snmp")
def build(config: AgentConfig) -> list[SnmpDevicePoller]:
    devices = [device for device in config.devices if device.snmp is not None]
    if not devices:
        return []
    settings = config.pollers.snmp
    profiles: ProfileSet = pollers.preloaded(config, "snmp_profiles")  # type: ignore[assignment]
    engines = _engines_for(devices)
    gate = asyncio.Semaphore(settings.max_in_flight)
    return [
        SnmpDevicePoller(
            device, SnmpClient.for_device(engines[device.id], device.address, device.snmp, settings),  # type: ignore[arg-type]
            profiles, settings, gate,
        )
        for device in devices
    ]

