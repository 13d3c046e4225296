"""Ask for a playbook run: find the device, check what the collector can check, queue the run.

The agent checks everything again (it is the customer's side and has the
last word); checking here as well turns the common mistakes into one clear
line at the engineer's terminal instead of a refused run: unknown device,
agent offline, parameter invalid, platform not supported, change without
approval.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from collector.runs import records
from collector.store import schema


class RunError(Exception):
    """Why a run cannot be asked for; `str()` is one line for the engineer."""


@dataclass(frozen=True, slots=True)
class DeviceRef:
    agent_id: str
    device_id: str
    customer: str
    site: str
    platform: str
    kind: str
    agent_connected: bool


def find_device(engine: Engine, name: str) -> DeviceRef:
    """`DEVICE`, `AGENT/DEVICE` or `CUSTOMER/SITE/DEVICE`, unambiguous."""
    d, a = schema.devices, schema.agents
    parts = name.split("/")
    query = (
        select(d.c.agent_id, d.c.device_id, d.c.platform, d.c.kind, a.c.customer, a.c.site, a.c.connected)
        .join(a, a.c.agent_id == d.c.agent_id).where(d.c.device_id == parts[-1])
    )
    if len(parts) == 2:
        query = query.where(d.c.agent_id == parts[0])
    elif len(parts) == 3:
        query = query.where(a.c.customer == parts[0], a.c.site == parts[1])
    elif len(parts) > 3:
        raise RunError(f"device {name!r}: give DEVICE, AGENT/DEVICE or CUSTOMER/SITE/DEVICE")
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    if not rows:
        raise RunError(f"device unknown: {name!r} (see `vigil devices`)")
    if len(rows) > 1:
        where = ", ".join(f"{r.customer}/{r.site}/{r.device_id}" for r in rows)
        raise RunError(f"device {name!r} is ambiguous: {where}; say which")
    r = rows[0]
    return DeviceRef(r.agent_id, r.device_id, r.customer, r.site, r.platform, r.kind, bool(r.connected))


def submit(engine: Engine, library: Any, playbook_id: str, device: DeviceRef, params: Mapping[str, str],
           requested_by: str, *, approved_by: str = "", approval_note: str = "", incident_id: int | None = None) -> int:
    """Queue the run and return its id, or raise RunError naming what is wrong."""
    from agent.diagnosis import Refused, pick_platform
    from playbooks.library import ParamError, PlaybookError

    playbook = library.get(playbook_id)
    if playbook is None:
        raise RunError(f"no playbook {playbook_id!r} (see `vigil playbooks`)")
    try:
        platform = pick_platform(playbook, device.device_id, device.platform, device.kind == "host")
        playbook.plan(platform, dict(params))
    except Refused as exc:
        raise RunError(str(exc)) from None
    except ParamError as exc:
        raise RunError(f"parameter invalid: {exc}") from None
    except PlaybookError as exc:
        raise RunError(str(exc)) from None
    approval: dict[str, object] | None = None
    if playbook.mode == "change":
        if not approved_by.strip():
            raise RunError(f"{playbook_id} is a change playbook: say who at {device.customer} approved it (--approved-by NAME)")
        approval = {"approval_id": uuid.uuid4().hex[:12], "approved_by": approved_by.strip(),
                    "approved_at_ms": int(time.time() * 1000), "note": approval_note, "recorded_by": requested_by}
    if not device.agent_connected:
        raise RunError(f"agent offline: {device.agent_id} (site {device.customer}/{device.site}) is not connected")
    request = records.Request(
        agent_id=device.agent_id, device_id=device.device_id, customer=device.customer, site=device.site,
        playbook_id=playbook.id, playbook_hash=playbook.content_hash, mode=playbook.mode, params=dict(params),
        requested_by=requested_by, approval=approval, incident_id=incident_id,
    )
    return records.create(engine, request)
