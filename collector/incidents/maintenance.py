"""Maintenance windows: planned work during which nothing opens or notifies for what the window covers.

A window covers a customer, one of its sites, or one device, for [starts,
ends) in UTC. While it is on, a fire that would open an incident is not
opened but written to `maintenance_suppressed` (the record that it was
held back, shown by `vigil maintenance show`), and notices of incidents
already open are recorded as suppressed. What still fires when the window
ends is opened then, by the keeper's sweep: work that broke something does
not hide the damage.
"""

from __future__ import annotations

import time

from sqlalchemy import Connection, Engine, Row, insert, or_, select, update

from collector.store import schema


class MaintenanceError(ValueError):
    """A window that cannot be; `str()` says why."""


def add(engine: Engine, customer: str, starts_ms: int, ends_ms: int, *, site: str = "", agent_id: str = "",
        device_id: str = "", reason: str = "", who: str = "") -> int:
    if not customer.strip():
        raise MaintenanceError("a window needs its customer")
    if ends_ms <= starts_ms:
        raise MaintenanceError("the window ends before it starts")
    if ends_ms - starts_ms > 31 * 86_400_000:
        raise MaintenanceError("a window longer than 31 days is not maintenance: remove the device from monitoring instead")
    with engine.begin() as connection:
        return int(connection.execute(insert(schema.maintenance_windows).values(
            customer=customer.strip(), site=site.strip(), agent_id=agent_id.strip(), device_id=device_id.strip(),
            starts_ms=starts_ms, ends_ms=ends_ms, reason=reason.strip(), created_by=who.strip(),
            created_ms=int(time.time() * 1000),
        )).inserted_primary_key[0])


def end(engine: Engine, window_id: int, at_ms: int | None = None) -> Row:
    """End a window early (now); the keeper's next sweep opens what still fires."""
    now = int(time.time() * 1000) if at_ms is None else at_ms
    w = schema.maintenance_windows
    with engine.begin() as connection:
        row = connection.execute(select(w).where(w.c.window_id == window_id)).first()
        if row is None:
            raise MaintenanceError(f"no maintenance window {window_id}")
        if row.ends_ms > now:
            connection.execute(update(w).where(w.c.window_id == window_id).values(ends_ms=max(now, row.starts_ms)))
        return connection.execute(select(w).where(w.c.window_id == window_id)).one()


def listing(engine: Engine, now_ms: int, include_past: bool = False, customer: str | None = None) -> list[Row]:
    w = schema.maintenance_windows
    query = select(w).order_by(w.c.starts_ms, w.c.window_id)
    if not include_past:
        query = query.where(w.c.ends_ms > now_ms)
    if customer:
        query = query.where(w.c.customer == customer)
    with engine.connect() as connection:
        return connection.execute(query).all()


def covering(connection: Connection, customer: str, site: str, agent_id: str, device_id: str, at_ms: int) -> Row | None:
    """The window that covers this device at `at_ms` (the data's time), if any."""
    w = schema.maintenance_windows
    return connection.execute(select(w).where(
        w.c.customer == customer, w.c.starts_ms <= at_ms, w.c.ends_ms > at_ms,
        or_(w.c.site == "", w.c.site == site), or_(w.c.agent_id == "", w.c.agent_id == agent_id),
        or_(w.c.device_id == "", w.c.device_id == device_id),
    ).order_by(w.c.window_id).limit(1)).first()


def suppressed(engine: Engine, window_id: int) -> list[Row]:
    s = schema.maintenance_suppressed
    with engine.connect() as connection:
        return connection.execute(select(s).where(s.c.window_id == window_id).order_by(s.c.at_ms, s.c.entry_id)).all()


def describe(window: Row) -> str:
    scope = window.customer + (f" / {window.site}" if window.site else "") + (
        f" / {window.agent_id + '/' if window.agent_id else ''}{window.device_id}" if window.device_id else "")
    return f"maintenance window {window.window_id} ({scope}{': ' + window.reason if window.reason else ''})"
